package io.layerswarm.libp2p.multistream;

import io.layerswarm.libp2p.multiformats.Varint;
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
        int start = in.readerIndex();
        long len;
        try {
            len = Varint.tryRead(in);
        } catch (IllegalArgumentException e) {
            throw new CorruptedFrameException("multistream: bad length prefix: " + e.getMessage());
        }
        if (len < 0) {
            return;
        }
        if (len == 0 || len > maxLength) {
            throw new CorruptedFrameException("multistream: message length " + len + " outside 1.." + maxLength);
        }
        if (in.readableBytes() < len) {
            in.readerIndex(start);
            return;
        }
        int bodyLen = (int) len - 1;
        if (in.getByte(in.readerIndex() + bodyLen) != '\n') {
            throw new CorruptedFrameException("multistream: message not terminated by a newline");
        }
        ByteBuf body = in.readSlice(bodyLen);
        in.skipBytes(1);
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(body.nioBuffer()).toString());
        } catch (CharacterCodingException e) {
            throw new CorruptedFrameException("multistream: message is not UTF-8");
        }
    }
}
