package io.layerswarm.libp2p.yamux;

import io.netty.buffer.ByteBuf;

/**
 * One Yamux frame: the 12-byte header fields plus, for {@link #TYPE_DATA} frames, the payload.
 *
 * <p>{@code length} is the unsigned 32-bit header field: payload size for data frames, the window
 * delta for window updates, the opaque value for pings and the error code for go-away. The payload,
 * when present, is owned by whoever holds the frame and must be released once (the encoder releases
 * it when writing, the session when delivering it to a stream).
 *
 * @param type     one of the {@code TYPE_*} constants
 * @param flags    bit set of the {@code FLAG_*} constants
 * @param streamId stream id (0 for session-level frames)
 * @param length   unsigned header length field
 * @param data     payload of a data frame, or {@code null}
 * @param charge   receive-window bytes this frame uses up: its length for a whole data frame; when the
 *                 decoder passes a long payload on in pieces ({@link YamuxFrameDecoder}), the whole wire
 *                 frame's length on the first piece and 0 on the others, so the window is checked against
 *                 the frame the sender sent, not against the pieces; 0 for other types
 */
public record YamuxFrame(int type, int flags, int streamId, long length, ByteBuf data, long charge) {

    /** Protocol version carried in every header. */
    public static final int VERSION = 0;
    /** Header size in bytes. */
    public static final int HEADER_SIZE = 12;

    public static final int TYPE_DATA = 0;
    public static final int TYPE_WINDOW_UPDATE = 1;
    public static final int TYPE_PING = 2;
    public static final int TYPE_GO_AWAY = 3;

    public static final int FLAG_SYN = 1;
    public static final int FLAG_ACK = 2;
    public static final int FLAG_FIN = 4;
    public static final int FLAG_RST = 8;

    /** Go-away code: normal termination. */
    public static final int GO_AWAY_NORMAL = 0;
    /** Go-away code: the peer broke the protocol. */
    public static final int GO_AWAY_PROTOCOL_ERROR = 1;
    /** Go-away code: internal error. */
    public static final int GO_AWAY_INTERNAL_ERROR = 2;

    /** A whole frame (a data frame's charge is its length). */
    public YamuxFrame(int type, int flags, int streamId, long length, ByteBuf data) {
        this(type, flags, streamId, length, data, type == TYPE_DATA ? length : 0);
    }

    public YamuxFrame {
        if (type < TYPE_DATA || type > TYPE_GO_AWAY) {
            throw new IllegalArgumentException("type=" + type);
        }
        if (charge < 0 || charge > 0xFFFF_FFFFL || (type != TYPE_DATA && charge != 0)) {
            throw new IllegalArgumentException("charge=" + charge);
        }
        if (length < 0 || length > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("length=" + length);
        }
        if (data != null && (type != TYPE_DATA || data.readableBytes() != length)) {
            throw new IllegalArgumentException("payload only on data frames, with length = payload size");
        }
    }

    /** A data frame carrying {@code data} (may be empty, e.g. a bare FIN). */
    public static YamuxFrame data(int streamId, int flags, ByteBuf data) {
        return new YamuxFrame(TYPE_DATA, flags, streamId, data.readableBytes(), data);
    }

    /** A window update adding {@code delta} bytes of credit. */
    public static YamuxFrame windowUpdate(int streamId, int flags, long delta) {
        return new YamuxFrame(TYPE_WINDOW_UPDATE, flags, streamId, delta, null);
    }

    /** A ping request ({@code FLAG_SYN}) or response ({@code FLAG_ACK}). */
    public static YamuxFrame ping(int flags, long opaque) {
        return new YamuxFrame(TYPE_PING, flags, 0, opaque, null);
    }

    /** A go-away frame with one of the {@code GO_AWAY_*} codes. */
    public static YamuxFrame goAway(int code) {
        return new YamuxFrame(TYPE_GO_AWAY, 0, 0, code, null);
    }

    /** Whether all bits of {@code flag} are set. */
    public boolean has(int flag) {
        return (flags & flag) == flag;
    }

    @Override
    public String toString() {
        return "YamuxFrame{type=" + type + " flags=" + flags + " stream=" + streamId + " length=" + length + "}";
    }
}
