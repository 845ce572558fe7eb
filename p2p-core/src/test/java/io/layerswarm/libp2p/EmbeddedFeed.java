package io.layerswarm.libp2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/** Feeds fuzz input into a Netty pipeline the way a socket would: in reads whose boundaries the input picks. */
public final class EmbeddedFeed {
    private EmbeddedFeed() {
    }

    /**
     * Writes {@code input} inbound in two reads, split where its first byte says, and returns what the
     * pipeline passed on (messages are released). Exceptions that reach the pipeline's tail are thrown.
     */
    public static List<Object> feed(EmbeddedChannel ch, byte[] input) {
        int split = input.length == 0 ? 0 : (input[0] & 0xff) % (input.length + 1);
        List<Object> out = new ArrayList<>();
        write(ch, input, 0, split, out);
        write(ch, input, split, input.length, out);
        return out;
    }

    private static void write(EmbeddedChannel ch, byte[] input, int from, int to, List<Object> out) {
        if (to > from && ch.isOpen()) {
            ch.writeInbound(Unpooled.wrappedBuffer(input, from, to - from));
        }
        ch.runPendingTasks();
        for (Object m; (m = ch.readInbound()) != null; ) {
            out.add(m instanceof ByteBuf b ? b.readableBytes() : m);
            ReferenceCountUtil.release(m);
        }
    }

    /**
     * Like {@link #feed} but throws what a decoder threw rather than Netty's {@code DecoderException}
     * wrapper, so that a contract can name the decoder's own exception type.
     */
    public static List<Object> feedUnwrapped(EmbeddedChannel ch, byte[] input) throws Exception {
        try {
            return feed(ch, input);
        } catch (DecoderException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Releases everything the pipeline wrote; returns how many bytes that was. */
    public static int drainOutbound(EmbeddedChannel ch) {
        ByteBuf all = outboundBytes(ch);
        int n = all.readableBytes();
        all.release();
        return n;
    }

    /** Everything the pipeline wrote, in one buffer (the caller releases it). */
    public static ByteBuf outboundBytes(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        for (Object m; (m = ch.readOutbound()) != null; ) {
            if (m instanceof ByteBuf b) {
                all.writeBytes(b);
            }
            ReferenceCountUtil.release(m);
        }
        return all;
    }
}
