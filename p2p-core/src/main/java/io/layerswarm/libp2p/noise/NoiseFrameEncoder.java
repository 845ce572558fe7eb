package io.layerswarm.libp2p.noise;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToByteEncoder;

/** Prefixes each Noise message with its 2-byte big-endian length; refuses messages over 65535 bytes. */
@ChannelHandler.Sharable
public final class NoiseFrameEncoder extends MessageToByteEncoder<ByteBuf> {

    /** Creates the encoder. */
    public NoiseFrameEncoder() {
        super(ByteBuf.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ByteBuf msg, ByteBuf out) {
        int len = msg.readableBytes();
        if (len == 0) {
            return; // an empty write carries nothing; an empty frame would be invalid Noise
        }
        if (len > HandshakeState.MAX_MESSAGE_LEN) {
            throw new EncoderException("Noise frame of " + len + " bytes exceeds 65535");
        }
        out.writeShort(len);
        out.writeBytes(msg);
    }
}
