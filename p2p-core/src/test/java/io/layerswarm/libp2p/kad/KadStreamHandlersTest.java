package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The stream handlers wired back to back through the frame codec, without a network. */
class KadStreamHandlersTest {

    static final KadTransport NO_NETWORK = new KadTransport() {
        @Override
        public CompletableFuture<KadMessage> request(KadPeer peer, KadMessage request) {
            return CompletableFuture.failedFuture(new IllegalStateException("no network"));
        }

        @Override
        public CompletableFuture<Void> send(KadPeer peer, KadMessage message) {
            return CompletableFuture.failedFuture(new IllegalStateException("no network"));
        }
    };

    static byte[] id(int i) {
        byte[] id = new byte[34];
        id[0] = 0x12;
        id[1] = 0x20;
        id[2] = (byte) i;
        return id;
    }

    /** Moves everything written on {@code from} into {@code to}. */
    private static void pump(EmbeddedChannel from, EmbeddedChannel to) {
        for (ByteBuf b; (b = from.readOutbound()) != null; ) {
            to.writeInbound(b);
        }
    }

    @Test
    void requestResponseAndOneWayProviderAnnouncement() throws Exception {
        KadDht server = new KadDht(id(1), List::of, NO_NETWORK, KadConfig.defaults());
        KadPeer known = new KadPeer(id(3), List.of(new byte[] {4, 127, 0, 0, 1, 6, 1, 1}), null);
        server.peerSpeaksKad(known);
        KadPeer client = new KadPeer(id(2), List.of(new byte[] {4, 127, 0, 0, 1, 6, 0, 1}), null);

        byte[] key = {0x12, 0x20, 9};
        CompletableFuture<KadMessage> sent = new CompletableFuture<>();
        EmbeddedChannel c1 = new EmbeddedChannel(new KadFrameCodec(), new KadClientHandler(
                new KadMessage(KadMessage.Type.ADD_PROVIDER, key, null, List.of(), List.of(client)), false, sent));
        EmbeddedChannel s1 = new EmbeddedChannel(new KadFrameCodec(), new KadServerHandler(server, client));
        pump(c1, s1);
        assertTrue(sent.isDone());
        assertEquals(List.of(client), server.localProviders(key));

        CompletableFuture<KadMessage> answer = new CompletableFuture<>();
        EmbeddedChannel c2 = new EmbeddedChannel(new KadFrameCodec(), new KadClientHandler(
                KadMessage.request(KadMessage.Type.GET_PROVIDERS, key), true, answer));
        EmbeddedChannel s2 = new EmbeddedChannel(new KadFrameCodec(), new KadServerHandler(server, known));
        pump(c2, s2);
        assertFalse(answer.isDone());
        pump(s2, c2);
        KadMessage r = answer.get();
        assertEquals(List.of(client), r.providerPeers());
        assertEquals(List.of(), r.closerPeers(), "the requester itself is not returned as closer");
        assertFalse(c2.isOpen(), "client closes the stream after the response");
    }

    @Test
    void garbageOnServerStreamClosesItAndClientFailsOnMismatchedType() {
        KadDht server = new KadDht(id(1), List::of, NO_NETWORK, KadConfig.defaults());
        EmbeddedChannel s = new EmbeddedChannel(new KadFrameCodec(), new KadServerHandler(server, KadPeer.of(id(2))));
        s.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}));
        assertFalse(s.isOpen());
        assertNull(s.readOutbound());

        // PUT_VALUE is refused rather than silently dropped.
        EmbeddedChannel s2 = new EmbeddedChannel(new KadFrameCodec(), new KadServerHandler(server, KadPeer.of(id(2))));
        s2.writeInbound(Unpooled.wrappedBuffer(KadFraming.frame(KadMessageCodec.encode(
                KadMessage.request(KadMessage.Type.PUT_VALUE, new byte[] {1})))));
        assertFalse(s2.isOpen());

        CompletableFuture<KadMessage> answer = new CompletableFuture<>();
        EmbeddedChannel c = new EmbeddedChannel(new KadFrameCodec(), new KadClientHandler(
                KadMessage.request(KadMessage.Type.FIND_NODE, new byte[] {1}), true, answer));
        c.writeInbound(Unpooled.wrappedBuffer(KadFraming.frame(KadMessageCodec.encode(
                KadMessage.request(KadMessage.Type.PING, new byte[0])))));
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, answer::get);
        assertInstanceOf(KadProtocolException.class, e.getCause());
    }
}
