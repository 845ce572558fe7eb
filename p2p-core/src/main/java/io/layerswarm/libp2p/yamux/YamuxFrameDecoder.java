package io.layerswarm.libp2p.yamux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Bytes to {@link YamuxFrame}s. Rejects unknown versions and types and data frames larger than
 * {@code maxDataLength}. After the first error it discards everything that follows.
 *
 * <p>A data frame's payload is passed on as it arrives, as several data frames on the same stream when
 * it spans reads: SYN/ACK ride on the first piece, FIN/RST on the last, and the pieces add up to the
 * header's length. Waiting for whole frames would copy every payload that straddles two reads (under
 * TLS, 16 KiB records against 64 KiB frames, that was nearly all of them); pieces are slices of the
 * read buffers instead, and a hostile header can make it buffer nothing beyond one header.
 */
public final class YamuxFrameDecoder extends ByteToMessageDecoder {
    private static final int FIRST_PIECE_FLAGS = YamuxFrame.FLAG_SYN | YamuxFrame.FLAG_ACK;
    private static final int LAST_PIECE_FLAGS = YamuxFrame.FLAG_FIN | YamuxFrame.FLAG_RST;

    private final int maxDataLength;
    private boolean failed;
    /** Payload bytes of the current data frame not yet passed on (0: expecting a header). */
    private long remaining;
    /** The current data frame's header fields; its first piece is the one that starts at its full length. */
    private int frameStream;
    private int frameFlags;
    private long frameLength;

    /** @param maxDataLength largest data payload accepted (the largest receive window ever granted) */
    public YamuxFrameDecoder(int maxDataLength) {
        if (maxDataLength <= 0) {
            throw new IllegalArgumentException("maxDataLength=" + maxDataLength);
        }
        this.maxDataLength = maxDataLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (true) {
            if (remaining > 0) {
                int n = (int) Math.min(remaining, in.readableBytes());
                if (n == 0) {
                    return;
                }
                boolean first = remaining == frameLength;
                remaining -= n;
                int flags = (first ? frameFlags & FIRST_PIECE_FLAGS : 0)
                        | (remaining == 0 ? frameFlags & LAST_PIECE_FLAGS : 0);
                out.add(new YamuxFrame(YamuxFrame.TYPE_DATA, flags, frameStream, n, in.readRetainedSlice(n),
                        first ? frameLength : 0));
                continue;
            }
            if (in.readableBytes() < YamuxFrame.HEADER_SIZE) {
                return;
            }
            int idx = in.readerIndex();
            int version = in.getUnsignedByte(idx);
            int type = in.getUnsignedByte(idx + 1);
            int flags = in.getUnsignedShort(idx + 2);
            int streamId = in.getInt(idx + 4);
            long length = in.getUnsignedInt(idx + 8);
            if (version != YamuxFrame.VERSION) {
                throw fail(in, "unsupported yamux version " + version);
            }
            if (type > YamuxFrame.TYPE_GO_AWAY) {
                throw fail(in, "unknown yamux frame type " + type);
            }
            if ((flags & ~0xF) != 0) {
                throw fail(in, "unknown yamux flags 0x" + Integer.toHexString(flags));
            }
            in.skipBytes(YamuxFrame.HEADER_SIZE);
            if (type == YamuxFrame.TYPE_DATA) {
                if (length > maxDataLength) {
                    throw fail(in, "yamux data frame of " + length + " bytes exceeds limit " + maxDataLength);
                }
                if (length == 0) {
                    out.add(new YamuxFrame(type, flags, streamId, 0, in.readRetainedSlice(0)));
                } else {
                    remaining = length;
                    frameLength = length;
                    frameStream = streamId;
                    frameFlags = flags;
                }
            } else {
                out.add(new YamuxFrame(type, flags, streamId, length, null));
            }
        }
    }

    private YamuxProtocolException fail(ByteBuf in, String message) {
        failed = true;
        remaining = 0;
        in.skipBytes(in.readableBytes());
        return new YamuxProtocolException(message);
    }
}
