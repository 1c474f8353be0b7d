// music-split-cli mix: a folder of stems into one file, as the player mixes them (mute, solo,
// gain, pan), with tempo and pitch changed on the mix and a time range.
#include <QCommandLineParser>
#include <QFileInfo>

#include <cmath>
#include <cstdio>

#include "app/cli/commands.h"
#include "app/exit_codes.h"
#include "core/error.h"
#include "core/jobs/stem_mix.h"

namespace msplit::cli {
namespace {

struct Options {
    QString folder, output;
    MixSettings mix;
    EncodeOptions encode;
};

// "STEM=VALUE" of --gain and --pan.
std::pair<QString, double> stemValue(const QString& arg, const QString& option) {
    const qsizetype eq = arg.lastIndexOf('=');
    if (eq <= 0)
        throw UsageError{"--" + option.toStdString() + " expects STEM=VALUE, got '" +
                         arg.toStdString() + "'"};
    return {arg.left(eq), parseNumber(arg.mid(eq + 1), option)};
}

// Seconds as "90", "90.5" or "1:30.5".
double parseTime(const QString& text, const QString& option) {
    const QStringList parts = text.split(':');
    if (parts.size() > 3) throw UsageError{"--" + option.toStdString() + ": not a time"};
    double seconds = 0;
    for (const QString& part : parts)
        seconds = seconds * 60 + parseNumber(part, option);
    return seconds;
}

int parse(const QStringList& args, Options& o) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Mix a folder of stems (as separate writes them, or a library result) into one file: "
        "mute, solo, gain and pan per stem, tempo and pitch on the whole, a time range.");
    p.addHelpOption();
    p.addPositionalArgument("folder", "The stems' folder.", "DIR");
    p.addOptions({
        {{"o", "out"}, "The file to write: .wav, .flac or .mp3.", "OUT"},
        {"mute", "Leave STEM out (repeatable).", "STEM"},
        {"solo", "Only the soloed stems are heard (repeatable).", "STEM"},
        {"gain", "STEM's gain in dB (repeatable), e.g. vocals=-6.", "STEM=DB"},
        {"pan", "STEM's balance from -1 (left) to 1 (right) (repeatable).", "STEM=P"},
        {"tempo", "Speed from 0.25 to 2, keeping the pitch (default: 1).", "R", "1"},
        {"semitones", "Pitch from -12 to 12 semitones (cents as decimals), keeping the tempo.", "N",
         "0"},
        {"from", "Start of the range (seconds, or M:SS).", "T"},
        {"to", "End of the range (seconds, or M:SS).", "T"},
        {"int24", "24-bit WAV (WAV is 16-bit otherwise; FLAC is always 24-bit)."},
        {"float32", "32-bit float WAV."},
        {"clip-mode", "rescale (as demucs), clamp or none.", "MODE", "rescale"},
    });
    if (const int status = parseCommand(p, args); status >= 0) return status;
    if (p.positionalArguments().size() != 1) throw UsageError{"give one folder of stems"};
    o.folder = p.positionalArguments().first();
    o.output = p.value("out");
    if (o.output.isEmpty()) throw UsageError{"-o OUT is needed (a .wav, .flac or .mp3 file)"};
    const QString ext = QFileInfo(o.output).suffix().toLower();
    if (ext == "wav")
        o.encode.format = FileFormat::Wav;
    else if (ext == "flac")
        o.encode.format = FileFormat::Flac;
    else if (ext == "mp3")
        o.encode.format = FileFormat::Mp3;
    else
        throw UsageError{"-o: write .wav, .flac or .mp3, not '" + ext.toStdString() + "'"};
    if (p.isSet("int24") && p.isSet("float32"))
        throw UsageError{"--int24 and --float32 exclude each other"};
    if (p.isSet("float32") && o.encode.format != FileFormat::Wav)
        throw UsageError{"--float32 is for WAV only"};
    o.encode.depth = p.isSet("float32") ? SampleFormat::Float32
                     : p.isSet("int24") || o.encode.format == FileFormat::Flac
                         ? SampleFormat::Int24
                         : SampleFormat::Int16;
    o.encode.clip = parseClipMode(p.value("clip-mode"));
    for (const QString& stem : p.values("mute"))
        o.mix.levels[stem].mute = true;
    for (const QString& stem : p.values("solo"))
        o.mix.levels[stem].solo = true;
    for (const QString& arg : p.values("gain")) {
        const auto [stem, db] = stemValue(arg, "gain");
        o.mix.levels[stem].gain = std::pow(10.0, db / 20.0);
    }
    for (const QString& arg : p.values("pan")) {
        const auto [stem, pan] = stemValue(arg, "pan");
        o.mix.levels[stem].pan = pan;
    }
    o.mix.tempo = parseNumber(p.value("tempo"), "tempo");
    o.mix.semitones = parseNumber(p.value("semitones"), "semitones");
    if (p.isSet("from")) o.mix.from = parseTime(p.value("from"), "from");
    if (p.isSet("to")) o.mix.to = parseTime(p.value("to"), "to");
    return -1;
}

}  // namespace

int runMix(const QStringList& args) {
    Options o;
    try {
        if (const int status = parse(args, o); status >= 0) return status;
    } catch (const UsageError& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.message.c_str());
        return exit_code::kUsage;
    }
    try {
        const StemSet stems = stemsInFolder(o.folder);
        checkMix(stems, o.mix);  // before anything is written
        int shown = -1;
        mixStems(stems, o.mix, o.output, o.encode, [&shown](double f) {
            if (int(100 * f) != shown)
                std::fprintf(stderr, "\rMixing: %3d%%", shown = int(100 * f));
            return true;
        });
        std::fprintf(stderr, "\nWrote %s\n", qPrintable(o.output));
        return exit_code::kOk;
    } catch (const Error& e) {
        std::fprintf(stderr, "\nmusic-split-cli: %s\n", e.what());
        return exit_code::kFailed;
    }
}

}  // namespace msplit::cli
