#include "core/audio/encoder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/atomic_file.h"
#include "core/audio/ffmpeg_util.h"
#include "core/audio/float_spool.h"
#include "core/error.h"

namespace msplit {
namespace {

using namespace ffmpeg;

struct Target {
    const char* muxer;
    const char* codec;
    AVSampleFormat sampleFormat;
    int bitsPerRawSample;
};

Target targetFor(const EncodeOptions& o) {
    switch (o.format) {
        case FileFormat::Mp3:
            return {"mp3", "libmp3lame", AV_SAMPLE_FMT_FLTP, 0};
        case FileFormat::Flac:
            if (o.depth == SampleFormat::Float32)
                throw Error(ErrorKind::Unsupported, "", "FLAC cannot store 32-bit float");
            return o.depth == SampleFormat::Int24 ? Target{"flac", "flac", AV_SAMPLE_FMT_S32, 24}
                                                  : Target{"flac", "flac", AV_SAMPLE_FMT_S16, 16};
        case FileFormat::Wav:
            switch (o.depth) {
                case SampleFormat::Int16:
                    return {"wav", "pcm_s16le", AV_SAMPLE_FMT_S16, 16};
                case SampleFormat::Int24:
                    return {"wav", "pcm_s24le", AV_SAMPLE_FMT_S32, 24};
                case SampleFormat::Float32:
                    return {"wav", "pcm_f32le", AV_SAMPLE_FMT_FLT, 0};
            }
    }
    throw Error(ErrorKind::Internal, "", "unknown output format");
}

// Float to integer PCM as libsndfile/torchaudio do it: scale, round, saturate. 24-bit values
// live in the top bits of an int32, as FFmpeg's encoders expect.
template <typename T>
T toInt(float x, double scale, int shift) {
    const double lo = -scale, hi = scale - 1;
    const double v = std::clamp(std::nearbyint(static_cast<double>(x) * scale), lo, hi);
    return static_cast<T>(static_cast<int64_t>(v) * (int64_t(1) << shift));
}

// Frames [start, start + count) of a planar block of `frames` frames per channel.
void fillFrame(AVFrame* frame, const float* planar, int ch, int64_t frames, int64_t start,
               int count) {
    for (int i = 0; i < count; ++i) {
        for (int c = 0; c < ch; ++c) {
            const float x = planar[c * frames + start + i];
            switch (frame->format) {
                case AV_SAMPLE_FMT_FLTP:
                    reinterpret_cast<float*>(frame->data[c])[i] = x;
                    break;
                case AV_SAMPLE_FMT_FLT:
                    reinterpret_cast<float*>(frame->data[0])[i * ch + c] = x;
                    break;
                case AV_SAMPLE_FMT_S16:
                    reinterpret_cast<int16_t*>(frame->data[0])[i * ch + c] =
                        toInt<int16_t>(x, 32768.0, 0);
                    break;
                case AV_SAMPLE_FMT_S32:
                    reinterpret_cast<int32_t*>(frame->data[0])[i * ch + c] =
                        toInt<int32_t>(x, 8388608.0, 8);
                    break;
                default:
                    throw Error(ErrorKind::Internal, "", "unexpected sample format");
            }
        }
    }
}

}  // namespace

namespace {

// demucs' rescale: by max(1.01 x peak, 1), so nothing reaches full scale.
float rescaleDivisor(float peak) {
    return std::max(1.01f * peak, 1.0f);
}

}  // namespace

void applyClipMode(AudioBuffer& audio, ClipMode mode) {
    if (mode == ClipMode::None) return;
    if (mode == ClipMode::Clamp) {
        for (float& x : audio.samples)
            x = std::clamp(x, -0.99f, 0.99f);
        return;
    }
    float peak = 0;
    for (float x : audio.samples)
        peak = std::max(peak, std::abs(x));
    const float scale = rescaleDivisor(peak);
    if (scale != 1.0f)
        for (float& x : audio.samples)
            x /= scale;
}

// ---- AudioWriter -----------------------------------------------------------------------------

struct AudioWriter::Impl {
    std::string path;  // for messages: the target, or "standard output"
    std::unique_ptr<AtomicFile> file;
    OutputPtr out;
    CodecPtr enc;
    AVStream* stream = nullptr;
    PacketPtr packet{av_packet_alloc()};
    FramePtr frame{av_frame_alloc()};
    int channels = 0;
    bool clamp = false;
    int frameSize = 4096;
    std::vector<float> pending;  // planar, less than one encoder frame, waiting for more
    int64_t pendingFrames = 0;
    int64_t pts = 0;
    bool finished = false;

    [[noreturn]] void fail(const std::string& what, int err) const {
        std::string why = errorText(err);
        if (err == AVERROR(ENOSPC)) why += ", disk full";
        if (err == AVERROR(EPIPE)) why = "the reader went away";
        throw Error(ErrorKind::Io, path, what + " (" + why + ")");
    }

    void drain() {
        int err;
        while ((err = avcodec_receive_packet(enc.get(), packet.get())) >= 0) {
            av_packet_rescale_ts(packet.get(), enc->time_base, stream->time_base);
            packet->stream_index = stream->index;
            if ((err = av_interleaved_write_frame(out.get(), packet.get())) < 0)
                fail("cannot write audio data", err);
        }
        if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) fail("cannot encode audio", err);
        if (out->pb && out->pb->error < 0) fail("cannot write the file", out->pb->error);
    }

    // Encodes frames [start, start + count) of a planar block of `frames` frames.
    void encode(const float* planar, int64_t frames, int64_t start, int count) {
        av_frame_unref(frame.get());
        frame->nb_samples = count;
        frame->format = enc->sample_fmt;
        frame->sample_rate = enc->sample_rate;
        av_channel_layout_copy(&frame->ch_layout, &enc->ch_layout);
        if (av_frame_get_buffer(frame.get(), 0) < 0)
            throw Error(ErrorKind::Internal, path, "out of memory");
        fillFrame(frame.get(), planar, channels, frames, start, count);
        frame->pts = pts;
        pts += count;
        int err;
        if ((err = avcodec_send_frame(enc.get(), frame.get())) < 0)
            fail("cannot encode audio", err);
        drain();
    }
};

AudioWriter::AudioWriter(const std::string& path, int sampleRate, int channels,
                         const EncodeOptions& options)
    : impl_(std::make_unique<Impl>()) {
    Impl& d = *impl_;
    const bool toStdout = path == "-";
    d.path = toStdout ? "standard output" : path;
    if (channels <= 0 || sampleRate <= 0)
        throw Error(ErrorKind::Internal, d.path, "invalid audio format to write");
    if (options.clip == ClipMode::Rescale)
        throw Error(ErrorKind::Internal, d.path,
                    "rescaling needs the whole audio: use encodeAudio or a spool");
    d.channels = channels;
    d.clamp = options.clip == ClipMode::Clamp;
    const Target target = targetFor(options);
    if (!toStdout) d.file = std::make_unique<AtomicFile>(path);
    const std::string url = toStdout ? "pipe:1" : d.file->tempPath();

    AVFormatContext* rawOut = nullptr;
    if (avformat_alloc_output_context2(&rawOut, nullptr, target.muxer, url.c_str()) < 0 || !rawOut)
        throw Error(ErrorKind::Internal, d.path, "cannot set up the output file");
    d.out.reset(rawOut);
    const AVCodec* codec = avcodec_find_encoder_by_name(target.codec);
    if (!codec)
        throw Error(ErrorKind::Unsupported, d.path,
                    std::string("FFmpeg has no ") + target.codec + " encoder");
    d.enc.reset(avcodec_alloc_context3(codec));
    AVCodecContext* enc = d.enc.get();
    enc->sample_rate = sampleRate;
    enc->sample_fmt = target.sampleFormat;
    av_channel_layout_default(&enc->ch_layout, channels);
    enc->time_base = AVRational{1, sampleRate};
    if (target.bitsPerRawSample) enc->bits_per_raw_sample = target.bitsPerRawSample;
    if (options.format == FileFormat::Mp3) enc->bit_rate = int64_t(options.mp3BitrateKbps) * 1000;
    if (d.out->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int err = avcodec_open2(enc, codec, nullptr);
    if (err < 0)
        throw Error(
            ErrorKind::Unsupported, d.path,
            "cannot open the " + std::string(target.codec) + " encoder (" + errorText(err) + ")");
    d.stream = avformat_new_stream(d.out.get(), nullptr);
    if (!d.stream || avcodec_parameters_from_context(d.stream->codecpar, enc) < 0)
        throw Error(ErrorKind::Internal, d.path, "cannot set up the output stream");
    d.stream->time_base = enc->time_base;
    for (const auto& [key, value] : options.tags)
        av_dict_set(&d.out->metadata, key.c_str(), value.c_str(), 0);
    if ((err = avio_open(&d.out->pb, url.c_str(), AVIO_FLAG_WRITE)) < 0)
        d.fail("cannot open the file for writing", err);
    if ((err = avformat_write_header(d.out.get(), nullptr)) < 0)
        d.fail("cannot write the file header", err);
    if (toStdout) avio_flush(d.out->pb);
    d.frameSize = enc->frame_size > 0 ? enc->frame_size : 4096;
}

AudioWriter::~AudioWriter() = default;  // not committed: the temporary file is removed

void AudioWriter::write(const float* planar, int64_t frames) {
    Impl& d = *impl_;
    if (d.finished) throw Error(ErrorKind::Internal, d.path, "written after commit");
    if (frames <= 0) return;
    for (int64_t i = 0; i < frames * d.channels; ++i)
        if (!std::isfinite(planar[i]))
            throw Error(ErrorKind::InvalidInput, d.path,
                        "the audio contains invalid (NaN or infinite) samples");
    std::vector<float> clamped;
    if (d.clamp) {
        clamped.assign(planar, planar + frames * d.channels);
        for (float& x : clamped)
            x = std::clamp(x, -0.99f, 0.99f);
        planar = clamped.data();
    }
    // Encoders with a fixed frame size (FLAC, MP3) get whole frames: what does not fill one
    // waits for the next block, so the file equals one written in a single piece.
    int64_t start = 0;
    if (d.pendingFrames > 0) {
        const int64_t take = std::min<int64_t>(d.frameSize - d.pendingFrames, frames);
        std::vector<float> joined(static_cast<size_t>((d.pendingFrames + take) * d.channels));
        for (int c = 0; c < d.channels; ++c) {
            std::copy_n(d.pending.data() + c * d.pendingFrames, d.pendingFrames,
                        joined.data() + c * (d.pendingFrames + take));
            std::copy_n(planar + c * frames, take,
                        joined.data() + c * (d.pendingFrames + take) + d.pendingFrames);
        }
        d.pending.swap(joined);
        d.pendingFrames += take;
        start = take;
        if (d.pendingFrames < d.frameSize) return;
        d.encode(d.pending.data(), d.pendingFrames, 0, static_cast<int>(d.pendingFrames));
        d.pendingFrames = 0;
        d.pending.clear();
    }
    for (; start + d.frameSize <= frames; start += d.frameSize)
        d.encode(planar, frames, start, d.frameSize);
    if (start < frames) {
        d.pendingFrames = frames - start;
        d.pending.resize(static_cast<size_t>(d.pendingFrames * d.channels));
        for (int c = 0; c < d.channels; ++c)
            std::copy_n(planar + c * frames + start, d.pendingFrames,
                        d.pending.data() + c * d.pendingFrames);
    }
    if (!d.file) avio_flush(d.out->pb);  // a pipe's reader hears it now
    if (d.out->pb->error < 0) d.fail("cannot write the file", d.out->pb->error);
}

void AudioWriter::commit() {
    Impl& d = *impl_;
    if (d.finished) return;
    if (d.pts + d.pendingFrames == 0)
        throw Error(ErrorKind::NoAudio, d.path, "nothing to write: the audio is empty");
    if (d.pendingFrames > 0)
        d.encode(d.pending.data(), d.pendingFrames, 0, static_cast<int>(d.pendingFrames));
    d.pendingFrames = 0;
    avcodec_send_frame(d.enc.get(), nullptr);
    d.drain();
    int err;
    if ((err = av_write_trailer(d.out.get())) < 0) d.fail("cannot finish the file", err);
    if (d.out->pb->error < 0) d.fail("cannot write the file", d.out->pb->error);
    if ((err = avio_closep(&d.out->pb)) < 0) d.fail("cannot close the file", err);
    if (d.file) d.file->commit();
    d.finished = true;
}

// ---- whole buffers ---------------------------------------------------------------------------

void encodeSpool(const std::string& path, int sampleRate, const FloatSpool& spool,
                 const EncodeOptions& options) {
    const bool rescale = options.clip == ClipMode::Rescale;
    const float scale = rescale ? rescaleDivisor(spool.peak()) : 1.0f;
    EncodeOptions streamed = options;
    if (rescale) streamed.clip = ClipMode::None;  // the scale below is the rescale
    AudioWriter writer(path, sampleRate, spool.channels(), streamed);
    std::vector<float> scaled;
    spool.replay([&](const float* block, int64_t n) {
        scaled.assign(block, block + spool.channels() * n);
        if (scale != 1.0f)
            for (float& x : scaled)
                x /= scale;
        writer.write(scaled.data(), n);
    });
    writer.commit();
}

void encodeStream(const std::string& path, int sampleRate, int channels,
                  const EncodeOptions& options,
                  const std::function<int64_t(float* planar, int64_t max)>& read) {
    constexpr int64_t kBlock = 1 << 16;
    std::vector<float> block(size_t(channels * kBlock));
    if (options.clip != ClipMode::Rescale) {
        AudioWriter writer(path, sampleRate, channels, options);
        while (const int64_t n = read(block.data(), kBlock))
            writer.write(block.data(), n);
        writer.commit();
        return;
    }
    FloatSpool spool(std::filesystem::absolute(path).parent_path().string(), channels);
    while (const int64_t n = read(block.data(), kBlock))
        spool.append(block.data(), n);
    encodeSpool(path, sampleRate, spool, options);
}

void encodeAudio(const std::string& path, const AudioBuffer& input, const EncodeOptions& options,
                 const std::function<bool(double)>& progress) {
    if (input.channels <= 0 || input.sampleRate <= 0 || input.frames() <= 0)
        throw Error(ErrorKind::NoAudio, path, "nothing to write: the audio is empty");
    if (!input.allFinite())
        throw Error(ErrorKind::InvalidInput, path,
                    "the audio contains invalid (NaN or infinite) samples");
    AudioBuffer audio = input;
    applyClipMode(audio, options.clip);
    EncodeOptions streamed = options;
    streamed.clip = ClipMode::None;  // applied above, on the whole
    AudioWriter writer(path, audio.sampleRate, audio.channels, streamed);
    // Whole encoder frames per call, so the planar block is the buffer itself.
    const int64_t total = audio.frames();
    constexpr int64_t kBlock = 1 << 16;
    std::vector<float> block;
    for (int64_t pos = 0; pos < total; pos += kBlock) {
        const int64_t n = std::min(kBlock, total - pos);
        block.resize(static_cast<size_t>(n * audio.channels));
        for (int c = 0; c < audio.channels; ++c)
            std::copy_n(audio.channel(c) + pos, n, block.data() + c * n);
        writer.write(block.data(), n);
        if (progress && !progress(static_cast<double>(pos + n) / static_cast<double>(total)))
            throw Error(ErrorKind::Cancelled, path, "writing cancelled");
    }
    writer.commit();
}

}  // namespace msplit
