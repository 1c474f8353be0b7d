#include "core/audio/encoder.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/atomic_file.h"
#include "core/audio/ffmpeg_util.h"
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

void fillFrame(AVFrame* frame, const AudioBuffer& audio, int64_t start, int count) {
    const int ch = audio.channels;
    for (int i = 0; i < count; ++i) {
        for (int c = 0; c < ch; ++c) {
            const float x = audio.channel(c)[start + i];
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
    const float scale = std::max(1.01f * peak, 1.0f);
    if (scale != 1.0f)
        for (float& x : audio.samples)
            x /= scale;
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
    const Target target = targetFor(options);

    AtomicFile file(path);
    auto fail = [&](const std::string& what, int err) {
        throw Error(
            ErrorKind::Io, path,
            what + " (" + errorText(err) + (err == AVERROR(ENOSPC) ? ", disk full" : "") + ")");
    };

    AVFormatContext* rawOut = nullptr;
    if (avformat_alloc_output_context2(&rawOut, nullptr, target.muxer, file.tempPath().c_str()) <
            0 ||
        !rawOut)
        throw Error(ErrorKind::Internal, path, "cannot set up the output file");
    OutputPtr out(rawOut);
    const AVCodec* codec = avcodec_find_encoder_by_name(target.codec);
    if (!codec)
        throw Error(ErrorKind::Unsupported, path,
                    std::string("FFmpeg has no ") + target.codec + " encoder");
    CodecPtr enc(avcodec_alloc_context3(codec));
    enc->sample_rate = audio.sampleRate;
    enc->sample_fmt = target.sampleFormat;
    av_channel_layout_default(&enc->ch_layout, audio.channels);
    enc->time_base = AVRational{1, audio.sampleRate};
    if (target.bitsPerRawSample) enc->bits_per_raw_sample = target.bitsPerRawSample;
    if (options.format == FileFormat::Mp3) enc->bit_rate = int64_t(options.mp3BitrateKbps) * 1000;
    if (out->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int err = avcodec_open2(enc.get(), codec, nullptr);
    if (err < 0)
        throw Error(
            ErrorKind::Unsupported, path,
            "cannot open the " + std::string(target.codec) + " encoder (" + errorText(err) + ")");
    AVStream* stream = avformat_new_stream(out.get(), nullptr);
    if (!stream || avcodec_parameters_from_context(stream->codecpar, enc.get()) < 0)
        throw Error(ErrorKind::Internal, path, "cannot set up the output stream");
    stream->time_base = enc->time_base;
    for (const auto& [key, value] : options.tags)
        av_dict_set(&out->metadata, key.c_str(), value.c_str(), 0);

    if ((err = avio_open(&out->pb, file.tempPath().c_str(), AVIO_FLAG_WRITE)) < 0)
        fail("cannot open the file for writing", err);
    if ((err = avformat_write_header(out.get(), nullptr)) < 0)
        fail("cannot write the file header", err);

    PacketPtr packet(av_packet_alloc());
    auto drain = [&] {
        while ((err = avcodec_receive_packet(enc.get(), packet.get())) >= 0) {
            av_packet_rescale_ts(packet.get(), enc->time_base, stream->time_base);
            packet->stream_index = stream->index;
            if ((err = av_interleaved_write_frame(out.get(), packet.get())) < 0)
                fail("cannot write audio data", err);
        }
        if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) fail("cannot encode audio", err);
    };

    const int frameSize = enc->frame_size > 0 ? enc->frame_size : 4096;
    FramePtr frame(av_frame_alloc());
    const int64_t total = audio.frames();
    for (int64_t pos = 0; pos < total; pos += frameSize) {
        const int count = static_cast<int>(std::min<int64_t>(frameSize, total - pos));
        av_frame_unref(frame.get());
        frame->nb_samples = count;
        frame->format = enc->sample_fmt;
        frame->sample_rate = enc->sample_rate;
        av_channel_layout_copy(&frame->ch_layout, &enc->ch_layout);
        if (av_frame_get_buffer(frame.get(), 0) < 0)
            throw Error(ErrorKind::Internal, path, "out of memory");
        fillFrame(frame.get(), audio, pos, count);
        frame->pts = pos;
        if ((err = avcodec_send_frame(enc.get(), frame.get())) < 0)
            fail("cannot encode audio", err);
        drain();
        if (progress && !progress(static_cast<double>(pos + count) / static_cast<double>(total)))
            throw Error(ErrorKind::Cancelled, path, "writing cancelled");
    }
    avcodec_send_frame(enc.get(), nullptr);
    drain();
    if ((err = av_write_trailer(out.get())) < 0) fail("cannot finish the file", err);
    if (out->pb->error < 0) fail("cannot write the file", out->pb->error);
    if ((err = avio_closep(&out->pb)) < 0) fail("cannot close the file", err);
    file.commit();
}

}  // namespace msplit
