package io.layerswarm.libp2p.multistream;

import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToByteEncoder;
import java.nio.charset.StandardCharsets;

/** Encodes a {@link String} as a multistream-select message {@code varint(len) utf8 '\n'}. */
@ChannelHandler.Sharable
public final class MultistreamMessageEncoder extends MessageToByteEncoder<String> {

    /** Creates the encoder. */
    public MultistreamMessageEncoder() {
        super(String.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, String msg, ByteBuf out) {
        encode(msg, out);
    }

    /** Appends one framed message to {@code out}. */
    public static void encode(String msg, ByteBuf out) {
        if (msg.indexOf('\n') >= 0) {
            throw new EncoderException("multistream message must not contain a newline");
        }
        LengthPrefixed.write((msg + "\n").getBytes(StandardCharsets.UTF_8), out);
    }
}
