package io.layerswarm.libp2p.kad;

import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageCodec;
import io.netty.handler.codec.DecoderException;
import java.util.List;

/**
 * Netty codec for a kad stream: unsigned-varint length-prefixed protobuf {@link KadMessage}s in both
 * directions. Frames over {@link KadMessageCodec#MAX_MESSAGE_SIZE} are refused as soon as their
 * length prefix is read, before any body is buffered.
 */
public final class KadFrameCodec extends ByteToMessageCodec<KadMessage> {

    @Override
    protected void encode(ChannelHandlerContext ctx, KadMessage msg, ByteBuf out) {
        LengthPrefixed.write(KadMessageCodec.encode(msg), out);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        try {
            byte[] body = LengthPrefixed.tryRead(in, KadMessageCodec.MAX_MESSAGE_SIZE,
                    m -> new KadProtocolException("kad: " + m));
            if (body != null) {
                out.add(KadMessageCodec.decode(body));
            }
        } catch (KadProtocolException e) {
            throw fail(in, e);
        }
    }

    /** A broken stream cannot be resynchronised: drop what is buffered so it is not decoded again. */
    private static DecoderException fail(ByteBuf in, KadProtocolException e) {
        in.skipBytes(in.readableBytes());
        return new DecoderException(e);
    }
}
