package io.layerswarm.libp2p.multistream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.testing.EmbeddedPair;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultistreamSelectTest {

    private static ByteBuf frames(String... msgs) {
        ByteBuf b = Unpooled.buffer();
        for (String m : msgs) {
            MultistreamMessageEncoder.encode(m, b);
        }
        return b;
    }

    private static List<String> decodeAll(byte[] bytes) {
        EmbeddedChannel ch = new EmbeddedChannel(new MultistreamMessageDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        List<String> out = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            out.add((String) m);
        }
        return out;
    }

    private static byte[] outbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        ByteBuf m;
        while ((m = ch.readOutbound()) != null) {
            all.writeBytes(m);
            m.release();
        }
        byte[] out = new byte[all.readableBytes()];
        all.readBytes(out);
        return out;
    }

    @Test
    void negotiatesAfterRejectionAndDeliversEarlyData() {
        EmbeddedPair pair = new EmbeddedPair();
        EmbeddedPair.Collector collector = new EmbeddedPair.Collector();
        Future<String> init = MultistreamSelect.initiate(pair.initiator.pipeline(), List.of("/tls/1.0.0", "/noise"),
                (ctx, p) -> ctx.writeAndFlush(Unpooled.copiedBuffer("early data", StandardCharsets.UTF_8)));
        Future<String> resp = MultistreamSelect.respond(pair.responder.pipeline(), List.of("/noise", "/other"),
                (ctx, p) -> ctx.pipeline().addAfter(ctx.name(), "app", collector));
        pair.pump();
        assertEquals("/noise", init.getNow());
        assertEquals("/noise", resp.getNow());
        assertEquals("early data", collector.text());
        assertEquals(1, pair.responder.pipeline().names().stream().filter(n -> !n.startsWith("DefaultChannelPipeline")).count(),
                "only the installed handler remains: " + pair.responder.pipeline().names());
    }

    @Test
    void pipelinedProposalAndDataInOneSegmentLosesNothing() {
        EmbeddedChannel ch = new EmbeddedChannel();
        EmbeddedPair.Collector collector = new EmbeddedPair.Collector();
        Future<String> resp = MultistreamSelect.respond(ch.pipeline(), List.of("/noise"),
                (ctx, p) -> ctx.pipeline().addAfter(ctx.name(), "app", collector));
        ByteBuf in = frames(MultistreamNegotiator.HEADER, "/yamux/1.0.0", "/noise");
        in.writeBytes("\u0000\u0001payload".getBytes(StandardCharsets.UTF_8));
        ch.writeInbound(in);
        assertEquals("/noise", resp.getNow());
        assertEquals("\u0000\u0001payload", collector.text());
        assertEquals(List.of(MultistreamNegotiator.HEADER, "na", "/noise"), decodeAll(outbound(ch)));
    }

    @Test
    void noCommonProtocolFailsAndCloses() {
        EmbeddedPair pair = new EmbeddedPair();
        Future<String> init = MultistreamSelect.initiate(pair.initiator.pipeline(), List.of("/a", "/b"),
                ProtocolInstaller.NONE);
        Future<String> resp = MultistreamSelect.respond(pair.responder.pipeline(), List.of("/c"), ProtocolInstaller.NONE);
        pair.pump();
        assertFalse(init.isSuccess());
        assertInstanceOf(MultistreamException.class, init.cause());
        assertTrue(init.cause().getMessage().contains("none of [/a, /b]"), init.cause().getMessage());
        assertFalse(pair.initiator.isOpen());
        assertFalse(resp.isSuccess());
    }

    @Test
    void lsListsProtocols() {
        EmbeddedChannel ch = new EmbeddedChannel();
        MultistreamSelect.respond(ch.pipeline(), List.of("/noise", "/yamux/1.0.0"), ProtocolInstaller.NONE);
        ch.writeInbound(frames(MultistreamNegotiator.HEADER, "ls"));
        List<String> replies = decodeAll(outbound(ch));
        assertEquals(2, replies.size());
        // the ls body is itself a sequence of framed messages followed by a newline
        byte[] body = replies.get(1).getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of("/noise", "/yamux/1.0.0"), decodeAll(java.util.Arrays.copyOf(body, body.length)));
    }

    @Test
    void tooManyProposalsFail() {
        EmbeddedChannel ch = new EmbeddedChannel();
        Future<String> resp = MultistreamSelect.respond(ch.pipeline(), List.of("/noise"), ProtocolInstaller.NONE);
        String[] msgs = new String[MultistreamNegotiator.DEFAULT_MAX_ATTEMPTS + 2];
        msgs[0] = MultistreamNegotiator.HEADER;
        for (int i = 1; i < msgs.length; i++) {
            msgs[i] = "/nope/" + i;
        }
        ch.writeInbound(frames(msgs));
        assertFalse(resp.isSuccess());
        assertTrue(resp.cause().getMessage().contains("more than"), resp.cause().getMessage());
        assertFalse(ch.isOpen());
    }

    @Test
    void garbageFailsClearlyAndCloses() {
        assertGarbageFails(frames("/multistream/2.0.0"), "expected /multistream/1.0.0");
        ByteBuf overlong = Unpooled.buffer();
        overlong.writeBytes(new byte[] {(byte) 0x81, 0x10}); // length 2049
        assertGarbageFails(overlong, "frame too large: 2049 bytes > limit 1024");
        ByteBuf noNewline = Unpooled.buffer();
        noNewline.writeByte(3).writeBytes("abc".getBytes(StandardCharsets.UTF_8));
        assertGarbageFails(noNewline, "newline");
        assertGarbageFails(Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
            (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}), "bad frame length");
        ByteBuf badUtf8 = Unpooled.buffer();
        badUtf8.writeByte(3).writeByte(0xC3).writeByte(0x28).writeByte('\n');
        assertGarbageFails(badUtf8, "UTF-8");
        Random r = new Random(1);
        for (int i = 0; i < 300; i++) {
            byte[] g = new byte[1 + r.nextInt(64)];
            r.nextBytes(g);
            EmbeddedChannel ch = new EmbeddedChannel();
            Future<String> f = MultistreamSelect.respond(ch.pipeline(), List.of("/noise"), ProtocolInstaller.NONE);
            ch.writeInbound(Unpooled.wrappedBuffer(g));
            assertFalse(f.isSuccess(), "random bytes must never negotiate");
        }
    }

    private static void assertGarbageFails(ByteBuf input, String fragment) {
        EmbeddedChannel ch = new EmbeddedChannel();
        Future<String> f = MultistreamSelect.initiate(ch.pipeline(), List.of("/noise"), ProtocolInstaller.NONE);
        ch.writeInbound(input);
        assertTrue(f.isDone(), fragment);
        assertTrue(f.cause().getMessage().contains(fragment), f.cause().getMessage());
        assertFalse(ch.isOpen());
    }
}
