#include "core/audio/decoder.h"

extern "C" {
#include <libavutil/opt.h>
}

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "core/audio/ffmpeg_util.h"
#include "core/error.h"

namespace msplit {
namespace {

using namespace ffmpeg;

void checkFile(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw Error(ErrorKind::NotFound, path, "no such file");
    if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::InvalidInput, path, "is a folder, not a file");
    if (st.st_size == 0) throw Error(ErrorKind::InvalidInput, path, "the file is empty");
}

void addTags(const AVDictionary* dict, std::map<std::string, std::string>& tags) {
    const AVDictionaryEntry* e = nullptr;
    while ((e = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX))) {
        std::string key = e->key;
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        tags.emplace(key, e->value);  // the container's tags win over the stream's
    }
}

// An opened input with its best audio stream and decoder.
struct Input {
    InputPtr format;
    CodecPtr codec;
    int stream = -1;
    AudioInfo info;
};

Input openInput(const std::string& path) {
    checkFile(path);
    Input in;
    AVFormatContext* raw = nullptr;
    int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    if (err < 0)
        throw Error(ErrorKind::InvalidInput, path,
                    "not an audio or video file that can be read (" + errorText(err) + ")");
    in.format.reset(raw);
    err = avformat_find_stream_info(raw, nullptr);
    if (err < 0)
        throw Error(ErrorKind::InvalidInput, path,
                    "cannot read the file's streams (" + errorText(err) + ")");
    const AVCodec* decoder = nullptr;
    in.stream = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (in.stream == AVERROR_STREAM_NOT_FOUND)
        throw Error(ErrorKind::NoAudio, path, "the file has no audio stream");
    if (in.stream == AVERROR_DECODER_NOT_FOUND || !decoder) {
        const int any = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
        const char* name =
            any >= 0 ? avcodec_get_name(raw->streams[any]->codecpar->codec_id) : "unknown";
        throw Error(ErrorKind::Unsupported, path,
                    std::string("the audio codec '") + name + "' is not supported");
    }
    if (in.stream < 0)
        throw Error(ErrorKind::InvalidInput, path,
                    "cannot find an audio stream (" + errorText(in.stream) + ")");
    AVStream* st = raw->streams[in.stream];
    in.codec.reset(avcodec_alloc_context3(decoder));
    if (!in.codec || avcodec_parameters_to_context(in.codec.get(), st->codecpar) < 0)
        throw Error(ErrorKind::Internal, path, "cannot set up the audio decoder");
    err = avcodec_open2(in.codec.get(), decoder, nullptr);
    if (err < 0)
        throw Error(ErrorKind::Unsupported, path,
                    "cannot open the audio decoder (" + errorText(err) + ")");
    if (in.codec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&in.codec->ch_layout, in.codec->ch_layout.nb_channels);

    AudioInfo& info = in.info;
    info.container = raw->iformat->name;
    info.codec = avcodec_get_name(st->codecpar->codec_id);  // "mp3", not the decoder's "mp3float"
    info.sampleRate = in.codec->sample_rate;
    info.channels = in.codec->ch_layout.nb_channels;
    if (raw->duration > 0)
        info.durationSeconds = static_cast<double>(raw->duration) / AV_TIME_BASE;
    else if (st->duration > 0)
        info.durationSeconds = static_cast<double>(st->duration) * av_q2d(st->time_base);
    addTags(raw->metadata, info.tags);
    addTags(st->metadata, info.tags);
    if (info.sampleRate <= 0 || info.channels <= 0)
        throw Error(ErrorKind::InvalidInput, path,
                    "the audio stream has no valid sample rate or channel count");
    return in;
}

}  // namespace

AudioInfo probeAudio(const std::string& path) {
    return openInput(path).info;
}

// ---- AudioReader -----------------------------------------------------------------------------

struct AudioReader::Impl {
    std::string path;
    Input in;
    SwrPtr swr;
    bool duplicateMono = false;
    int channels = 0;                        // delivered
    std::vector<std::vector<float>> planes;  // converted, not yet delivered (resampled channels)
    size_t offset = 0;                       // frames of `planes` already delivered
    PacketPtr packet{av_packet_alloc()};
    FramePtr frame{av_frame_alloc()};
    int64_t decodedFrames = 0;
    int64_t delivered = 0;
    int badPackets = 0;
    bool inputDone = false;  // the demuxer and decoder are drained
    bool flushed = false;    // the resampler too
    double position = 0;     // seconds of the last packet read
    int outRate = 0;
    int64_t seekTarget = -1;  // after a seek: the output frame wanted; the first frame tells where
    int64_t skip = 0;         // output frames still to drop before the target
    bool sought = false;      // an empty end after a seek is the end, not an empty file

    size_t buffered() const { return planes[0].size() - offset; }

    // What the resampler takes: the decoder's format at the start. A stream may change it on the
    // way (a radio MP3 going from stereo to mono; a damaged or hostile file anywhere): then the
    // resampler is drained and made again for the new format, so it never reads planes a frame
    // does not have.
    AVChannelLayout inLayout{};
    int inFormat = -1, inRate = 0;

    void resampleFrom(const AVChannelLayout& layout, int format, int rate) {
        AVChannelLayout from{};
        if (layout.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_check(&layout) == 0)
            av_channel_layout_default(&from, layout.nb_channels);
        else if (av_channel_layout_copy(&from, &layout) < 0)
            throw Error(ErrorKind::Internal, path, "out of memory");
        if (from.nb_channels <= 0 || rate <= 0 || format < 0) {
            av_channel_layout_uninit(&from);
            throw Error(ErrorKind::InvalidInput, path,
                        "the audio has no valid sample rate or channel count part-way");
        }
        AVChannelLayout outLayout;
        av_channel_layout_default(&outLayout, static_cast<int>(planes.size()));
        SwrContext* raw = nullptr;
        const bool ok =
            swr_alloc_set_opts2(&raw, &outLayout, AV_SAMPLE_FMT_FLTP, outRate, &from,
                                static_cast<AVSampleFormat>(format), rate, 0, nullptr) >= 0 &&
            swr_init(raw) >= 0;
        if (!ok) {
            swr_free(&raw);
            av_channel_layout_uninit(&from);
            throw Error(ErrorKind::Unsupported, path, "cannot convert this audio's format");
        }
        swr.reset(raw);
        av_channel_layout_uninit(&inLayout);
        inLayout = from;
        inFormat = format;
        inRate = rate;
    }

    bool sameFormat(const AVFrame& f) const {
        return f.format == inFormat && f.sample_rate == inRate &&
               f.ch_layout.nb_channels == inLayout.nb_channels;
    }

    ~Impl() { av_channel_layout_uninit(&inLayout); }

    // Appends what libswresample makes of `count` input frames (nullptr: flush).
    int convert(const uint8_t** data, int count) {
        const int room = swr_get_out_samples(swr.get(), count);
        if (room <= 0) return 0;
        std::vector<uint8_t*> out(planes.size());
        for (size_t c = 0; c < planes.size(); ++c) {
            auto& p = planes[c];
            p.resize(p.size() + static_cast<size_t>(room));
            out[c] = reinterpret_cast<uint8_t*>(p.data() + p.size() - static_cast<size_t>(room));
        }
        const int got = swr_convert(swr.get(), out.data(), room, data, count);
        if (got < 0) throw Error(ErrorKind::InvalidInput, path, "cannot convert the decoded audio");
        for (auto& p : planes)
            p.resize(p.size() - static_cast<size_t>(room - got));
        return got;
    }

    void receiveAll() {
        AVCodecContext* dec = in.codec.get();
        while (true) {
            const int err = avcodec_receive_frame(dec, frame.get());
            if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
            if (err < 0) {
                ++badPackets;
                return;
            }
            decodedFrames += frame->nb_samples;
            if (seekTarget >= 0) landed();
            if (!sameFormat(*frame)) {
                dropSkipped(convert(nullptr, 0));  // what the old format left in the resampler
                resampleFrom(frame->ch_layout, frame->format, frame->sample_rate);
            }
            const int got =
                convert(const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
            dropSkipped(got);
            av_frame_unref(frame.get());
        }
    }

    // The first frame after a seek: where it starts, so that the frames before the target go.
    void landed() {
        const AVStream* st = in.format->streams[in.stream];
        int64_t ts = frame->best_effort_timestamp;
        if (ts == AV_NOPTS_VALUE) ts = frame->pts;
        int64_t start = 0;
        if (ts != AV_NOPTS_VALUE) {
            if (st->start_time != AV_NOPTS_VALUE) ts -= st->start_time;
            start = av_rescale_q(ts, st->time_base, AVRational{1, outRate});
        }
        skip = std::max<int64_t>(0, seekTarget - start);
        seekTarget = -1;
    }
    void dropSkipped(int got) {
        const auto n = static_cast<size_t>(std::min<int64_t>(skip, got));
        if (n == 0) return;
        for (auto& p : planes)
            p.erase(p.end() - got, p.end() - got + static_cast<std::ptrdiff_t>(n));
        skip -= static_cast<int64_t>(n);
    }

    // Reads and decodes packets until at least `wanted` frames wait, or the input ends.
    void fill(size_t wanted) {
        AVCodecContext* dec = in.codec.get();
        const AVStream* st = in.format->streams[in.stream];
        while (buffered() < wanted && !inputDone) {
            const int err = av_read_frame(in.format.get(), packet.get());
            if (err < 0 && err != AVERROR_EOF && decodedFrames == 0 && !sought)
                throw Error(ErrorKind::InvalidInput, path,
                            "cannot read the file (" + errorText(err) + ")");
            if (err < 0) {  // the end, or a read error after some audio (a truncated file)
                avcodec_send_packet(dec, nullptr);
                receiveAll();
                inputDone = true;
                break;
            }
            if (packet->stream_index == in.stream) {
                if (avcodec_send_packet(dec, packet.get()) < 0) ++badPackets;
                receiveAll();
                if (packet->pts != AV_NOPTS_VALUE)
                    position = static_cast<double>(packet->pts) * av_q2d(st->time_base);
            }
            av_packet_unref(packet.get());
        }
        if (inputDone && !flushed && buffered() < wanted) {
            while (convert(nullptr, 0) > 0) {
            }
            flushed = true;
        }
        if (inputDone && decodedFrames == 0 && !sought) {
            if (badPackets > 0)
                throw Error(ErrorKind::InvalidInput, path,
                            "the audio data is corrupt and cannot be decoded");
            throw Error(ErrorKind::NoAudio, path, "the audio stream contains no samples");
        }
    }
};

AudioReader::AudioReader(const std::string& path, int sampleRate, int channels)
    : impl_(std::make_unique<Impl>()) {
    if (sampleRate <= 0 || channels <= 0)
        throw Error(ErrorKind::Internal, path, "invalid output format requested");
    Impl& d = *impl_;
    d.path = path;
    d.in = openInput(path);
    d.channels = channels;
    AVCodecContext* dec = d.in.codec.get();
    // Mono is duplicated as is (FFmpeg's own up-mix would lower it by 3 dB); other layouts go
    // through libswresample's standard matrix.
    d.duplicateMono = d.in.info.channels == 1 && channels > 1;
    const int resampledChannels = d.duplicateMono ? 1 : channels;
    d.planes.resize(static_cast<size_t>(resampledChannels));
    d.outRate = sampleRate;
    d.resampleFrom(dec->ch_layout, dec->sample_fmt, dec->sample_rate);
}

void AudioReader::seek(int64_t frame) {
    Impl& d = *impl_;
    frame = std::max<int64_t>(0, frame);
    const AVStream* st = d.in.format->streams[d.in.stream];
    int64_t ts = av_rescale_q(frame, AVRational{1, d.outRate}, st->time_base);
    if (st->start_time != AV_NOPTS_VALUE) ts += st->start_time;
    // At or before the target, then decode forward to it. FFmpeg's search for a frame can fail
    // near the end of a file without an index (FLAC without a seek table): then from further
    // back, and at worst from the start.
    const int64_t second = av_rescale_q(1, AVRational{1, 1}, st->time_base);
    const int64_t first = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    int err = av_seek_frame(d.in.format.get(), d.in.stream, ts, AVSEEK_FLAG_BACKWARD);
    for (int64_t back = second; err < 0 && ts - back / 2 > first; back *= 4)
        err = av_seek_frame(d.in.format.get(), d.in.stream, std::max(first, ts - back),
                            AVSEEK_FLAG_BACKWARD);
    if (err < 0)
        throw Error(ErrorKind::InvalidInput, d.path,
                    "cannot move within the file (" + errorText(err) + ")");
    avcodec_flush_buffers(d.in.codec.get());
    swr_close(d.swr.get());
    if (swr_init(d.swr.get()) < 0)
        throw Error(ErrorKind::Internal, d.path, "cannot restart the audio conversion");
    for (auto& p : d.planes)
        p.clear();
    d.offset = 0;
    d.inputDone = d.flushed = false;
    d.seekTarget = frame;
    d.sought = true;
    d.skip = 0;
    d.delivered = frame;
}

int64_t AudioReader::lengthEstimate() const {
    const Impl& d = *impl_;
    const AVStream* st = d.in.format->streams[d.in.stream];
    if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        return av_rescale_q(st->duration, st->time_base, AVRational{1, d.outRate});
    return static_cast<int64_t>(std::llround(d.in.info.durationSeconds * d.outRate));
}

AudioReader::~AudioReader() = default;

const AudioInfo& AudioReader::info() const {
    return impl_->in.info;
}

int AudioReader::channels() const {
    return impl_->channels;
}

double AudioReader::progress() const {
    const double duration = impl_->in.info.durationSeconds;
    if (impl_->inputDone) return 1.0;
    return duration > 0 ? std::clamp(impl_->position / duration, 0.0, 1.0) : 0.0;
}

int64_t AudioReader::framesRead() const {
    return impl_->delivered;
}

int64_t AudioReader::read(float* planar, int64_t max) {
    Impl& d = *impl_;
    if (max <= 0) return 0;
    d.fill(static_cast<size_t>(max));
    const auto n = static_cast<int64_t>(std::min(d.buffered(), static_cast<size_t>(max)));
    for (int c = 0; c < d.channels; ++c) {
        const auto& p = d.planes[d.duplicateMono ? 0 : static_cast<size_t>(c)];
        std::copy_n(p.begin() + static_cast<std::ptrdiff_t>(d.offset), n, planar + c * n);
    }
    // A float file can hold NaN or infinity; nothing downstream (separation, playback, waveform)
    // can use them, so the file is refused here, naming it.
    for (int64_t i = 0; i < n * d.channels; ++i)
        if (!std::isfinite(planar[i]))
            throw Error(ErrorKind::InvalidInput, d.path,
                        "the audio contains invalid (NaN or infinite) samples");
    d.offset += static_cast<size_t>(n);
    d.delivered += n;
    // Delivered frames are dropped once they are most of what is kept.
    if (d.offset > (size_t(1) << 16) && d.offset * 2 > d.planes[0].size()) {
        for (auto& p : d.planes)
            p.erase(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(d.offset));
        d.offset = 0;
    }
    return n;
}

// ---- whole files -----------------------------------------------------------------------------

AudioBuffer decodeAudio(const std::string& path, int sampleRate, int channels, AudioInfo* infoOut,
                        const std::function<bool(double)>& progress) {
    AudioReader reader(path, sampleRate, channels);
    std::vector<std::vector<float>> planes(static_cast<size_t>(channels));
    std::vector<float> block;
    constexpr int64_t kBlock = 1 << 16;
    block.resize(static_cast<size_t>(kBlock * channels));
    while (const int64_t n = reader.read(block.data(), kBlock)) {
        for (int c = 0; c < channels; ++c)
            planes[static_cast<size_t>(c)].insert(planes[static_cast<size_t>(c)].end(),
                                                  block.begin() + c * n,
                                                  block.begin() + (c + 1) * n);
        if (progress && !progress(reader.progress()))
            throw Error(ErrorKind::Cancelled, path, "decoding cancelled");
    }
    AudioBuffer out;
    out.sampleRate = sampleRate;
    out.channels = channels;
    const size_t frames = planes[0].size();
    if (frames == 0) throw Error(ErrorKind::NoAudio, path, "the audio stream contains no samples");
    out.samples.reserve(frames * static_cast<size_t>(channels));
    for (const auto& p : planes)
        out.samples.insert(out.samples.end(), p.begin(), p.end());
    if (infoOut) {
        *infoOut = reader.info();
        infoOut->durationSeconds = out.seconds();  // what was decoded, not the header's estimate
    }
    if (progress) progress(1.0);
    return out;
}

}  // namespace msplit
