package io.layerswarm.libp2p.multistream;

import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decodes multistream-select messages: {@code varint(len) utf8 '\n'} into a {@link String} without
 * the newline. Emits one message per decode call, so a handler that completes negotiation and
 * removes this decoder leaves any following bytes (the negotiated protocol's data) in the
 * cumulation, which Netty then forwards to the next handler.
 */
public final class MultistreamMessageDecoder extends ByteToMessageDecoder {

    /** Largest message (including the newline) accepted. */
    public static final int MAX_MESSAGE_LENGTH = 1024;

    private final int maxLength;
    /** After the first error the stream cannot be resynchronised; nothing after it is decoded. */
    private boolean failed;

    /** With the default limit. */
    public MultistreamMessageDecoder() {
        this(MAX_MESSAGE_LENGTH);
    }

    /** With a custom limit in bytes. */
    public MultistreamMessageDecoder(int maxLength) {
        this.maxLength = maxLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        byte[] framed;
        try {
            framed = LengthPrefixed.tryRead(in, maxLength, CorruptedFrameException::new);
        } catch (CorruptedFrameException e) {
            throw fail(in, e.getMessage());
        }
        if (framed == null) {
            return;
        }
        if (framed.length == 0 || framed[framed.length - 1] != '\n') {
            throw fail(in, "multistream: message not terminated by a newline");
        }
        ByteBuf body = io.netty.buffer.Unpooled.wrappedBuffer(framed, 0, framed.length - 1);
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(body.nioBuffer()).toString());
        } catch (CharacterCodingException e) {
            throw fail(in, "multistream: message is not UTF-8");
        }
    }

    private CorruptedFrameException fail(ByteBuf in, String message) {
        failed = true;
        in.skipBytes(in.readableBytes());
        return new CorruptedFrameException(message);
    }
}
