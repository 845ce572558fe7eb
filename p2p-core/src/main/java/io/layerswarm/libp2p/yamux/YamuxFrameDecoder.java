package io.layerswarm.libp2p.yamux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Bytes to {@link YamuxFrame}s. Rejects unknown versions and types and data frames larger than
 * {@code maxDataLength}, so a hostile peer can make it buffer at most one header plus that many bytes.
 * After the first error it discards everything that follows.
 */
public final class YamuxFrameDecoder extends ByteToMessageDecoder {
    private final int maxDataLength;
    private boolean failed;

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
        while (in.readableBytes() >= YamuxFrame.HEADER_SIZE) {
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
            if (type == YamuxFrame.TYPE_DATA) {
                if (length > maxDataLength) {
                    throw fail(in, "yamux data frame of " + length + " bytes exceeds limit " + maxDataLength);
                }
                if (in.readableBytes() < YamuxFrame.HEADER_SIZE + length) {
                    return;
                }
                in.skipBytes(YamuxFrame.HEADER_SIZE);
                ByteBuf data = in.readRetainedSlice((int) length);
                out.add(new YamuxFrame(type, flags, streamId, length, data));
            } else {
                in.skipBytes(YamuxFrame.HEADER_SIZE);
                out.add(new YamuxFrame(type, flags, streamId, length, null));
            }
        }
    }

    private YamuxProtocolException fail(ByteBuf in, String message) {
        failed = true;
        in.skipBytes(in.readableBytes());
        return new YamuxProtocolException(message);
    }
}
