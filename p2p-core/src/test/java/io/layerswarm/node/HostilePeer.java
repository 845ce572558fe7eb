package io.layerswarm.node;

import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.kad.KadDht;
import io.layerswarm.libp2p.kad.KadFrameCodec;
import io.layerswarm.libp2p.kad.KadMessage;
import io.layerswarm.libp2p.kad.KadPeer;
import io.layerswarm.libp2p.kad.KadRecord;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Announce;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerRequest;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerResponse;
import io.layerswarm.swarm.pb.LayerExchangeProtos.PieceQuery;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.LayerExchangeServer;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A peer that speaks LayerSwarm's real protocols (our own libp2p host, layer exchange, announce, kad)
 * and misbehaves in one of the ways a hostile or broken peer can. Test-side only.
 */
final class HostilePeer implements AutoCloseable {
    /** How it answers layer-exchange requests. */
    enum Serving {
        /** Takes every request and never answers; the stream stays open. */
        SILENT,
        /** Answers "have" at once (everything), then drips piece data and piece hashes at one byte per second. */
        DRIP
    }

    private final Host host;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "hostile");
        t.setDaemon(true);
        return t;
    });
    private final List<P2pStream> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Random random = new Random(42);
    private final AtomicLong seq = new AtomicLong();
    private volatile boolean closed;

    private HostilePeer(Host host) {
        this.host = host;
    }

    static HostilePeer start(Serving serving) throws IOException {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .maxBlockingStreams(4096).build().start();
        HostilePeer p = new HostilePeer(h);
        // it takes announces and claims and never answers a claim
        h.setStreamHandler(LayerSwarm.ANNOUNCE_PROTOCOL, p.held::add);
        if (serving == Serving.SILENT) {
            h.setStreamHandler(LayerExchangeServer.PROTOCOL, p.held::add);
        } else {
            h.setBlockingHandler(LayerExchangeServer.PROTOCOL, p::drip);
        }
        return p;
    }

    Host host() {
        return host;
    }

    PeerId peerId() {
        return host.peerId();
    }

    /** Connects to a victim (one connection, as an honest peer would). */
    void connect(Host victim) throws Exception {
        host.connect(address(victim)).get(10, TimeUnit.SECONDS);
    }

    static Multiaddr address(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    private void drip(P2pStream s) throws IOException, InterruptedException {
        LayerRequest req = Frames.read(s.inputStream(), LayerRequest.parser(), 4096);
        OutputStream out = s.outputStream();
        switch (req.getKindCase()) {
            case HAVE -> {
                // claims to hold everything, so it looks like the best source
                long size = announcedSize;
                PieceLayout layout = new PieceLayout(size, req.getHave().getPieceSize());
                Frames.write(out, LayerResponse.newBuilder().setSize(size).setPieceSize(layout.pieceSize())
                        .setBitfield(ByteString.copyFrom(Bitfield.full(layout.count()).toBytes())).build());
                out.flush();
            }
            case PIECE -> {
                Frames.write(out, LayerResponse.newBuilder().setSize(announcedSize)
                        .setDataLength(req.getPiece().getLength()).build());
                dripBytes(out, new byte[req.getPiece().getLength()]);
            }
            default -> {
                java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
                LengthPrefixed.write(frame, new byte[1 << 16]);
                dripBytes(out, frame.toByteArray());
            }
        }
    }

    private volatile long announcedSize;

    /** One byte per second until the stream fails or the peer is closed. */
    private void dripBytes(OutputStream out, byte[] data) throws IOException, InterruptedException {
        for (byte b : data) {
            if (closed) {
                return;
            }
            out.write(b);
            out.flush();
            Thread.sleep(1000); // the pacing is the behaviour under test, not synchronisation
        }
    }

    /** Announces that it holds each blob whole (and, for the drip peer, answers with this size). */
    void announceHeld(PeerId victim, long size, List<Digest> blobs) throws Exception {
        announcedSize = size;
        for (Digest d : blobs) {
            announce(victim, Announce.newBuilder().setDigest(d.toString()).setSize(size).setComplete(true)
                    .setSeq(seq.incrementAndGet()).build()).get(10, TimeUnit.SECONDS);
        }
    }

    private CompletableFuture<Void> announce(PeerId victim, Announce a) {
        return host.newStream(victim, List.of(LayerSwarm.ANNOUNCE_PROTOCOL)).thenAcceptAsync(s -> {
            try {
                Frames.write(s.outputStream(), a);
                s.outputStream().close();
                s.inputStream().read(); // until the victim has handled it and closed its end
            } catch (IOException e) {
                // a refused or reset stream is an answer too
            } finally {
                s.close();
            }
        }, pool);
    }

    /**
     * Announces {@code n} random blobs as held, each on its own stream, {@code parallel} streams at
     * a time.
     *
     * @return announces the victim took the stream for (the others were refused)
     */
    int floodAnnounces(PeerId victim, int n, int parallel) throws Exception {
        Semaphore window = new Semaphore(parallel);
        AtomicLong delivered = new AtomicLong();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[32];
            random.nextBytes(b);
            Digest d = Digest.parse("sha256:" + java.util.HexFormat.of().formatHex(b));
            window.acquire();
            CompletableFuture<Void> f = announce(victim, Announce.newBuilder().setDigest(d.toString())
                    .setSize(1 + random.nextInt(1 << 30)).setComplete(true).setSeq(seq.incrementAndGet()).build())
                    .whenComplete((v, e) -> {
                        window.release();
                        if (e == null) {
                            delivered.incrementAndGet();
                        }
                    });
            all.add(f);
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).exceptionally(e -> null).get(120, TimeUnit.SECONDS);
        return (int) delivered.get();
    }

    /**
     * Opens up to {@code n} streams of {@code protocol} on its one connection and sends nothing on them.
     *
     * @return streams the victim accepted (negotiated); they stay open until this peer closes
     */
    int openSilentStreams(PeerId victim, String protocol, int n) {
        List<CompletableFuture<P2pStream>> opens = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            opens.add(host.newStream(victim, List.of(protocol)));
        }
        int ok = 0;
        for (CompletableFuture<P2pStream> f : opens) {
            try {
                held.add(f.get(30, TimeUnit.SECONDS));
                ok++;
            } catch (Exception e) {
                // refused: past a limit
            }
        }
        return ok;
    }

    /**
     * Sends {@code n} piece requests at once and never reads an answer.
     *
     * @return requests that went out
     */
    int requestPiecesAndNeverRead(PeerId victim, Digest blob, int pieceLength, int n) {
        int sent = 0;
        for (int i = 0; i < n; i++) {
            try {
                P2pStream s = host.newStream(victim, List.of(LayerExchangeServer.PROTOCOL)).get(30, TimeUnit.SECONDS);
                Frames.write(s.outputStream(), LayerRequest.newBuilder().setDigest(blob.toString())
                        .setPiece(PieceQuery.newBuilder().setOffset(0).setLength(pieceLength)).build());
                held.add(s);
                sent++;
            } catch (Exception e) {
                // refused: past a limit, or refused uploads
            }
        }
        return sent;
    }

    /**
     * Dials the victim's address {@code n} more times without its peer id, so the host does not reuse
     * its connection.
     *
     * @return connections the victim let through the upgrade
     */
    int extraConnections(Host victim, int n) {
        int ok = 0;
        for (int i = 0; i < n; i++) {
            try {
                host.connect(victim.listenAddrs().get(0)).get(30, TimeUnit.SECONDS);
                ok++;
            } catch (Exception e) {
                // refused
            }
        }
        return ok;
    }

    /** Sends {@code n} ADD_PROVIDER records for random keys, {@code perStream} on each kad stream; waits until written. */
    void floodProviders(PeerId victim, int n, int perStream) throws Exception {
        List<byte[]> addrs = List.of(host.listenAddrs().get(0).bytes());
        KadPeer self = new KadPeer(host.peerId().bytes(), addrs, KadPeer.Connection.CONNECTED);
        for (int sent = 0; sent < n; sent += perStream) {
            List<KadMessage> batch = new ArrayList<>();
            for (int i = 0; i < Math.min(perStream, n - sent); i++) {
                byte[] key = new byte[34];
                random.nextBytes(key);
                key[0] = 0x12;
                key[1] = 0x20;
                batch.add(new KadMessage(KadMessage.Type.ADD_PROVIDER, key, null, List.of(), List.of(self)));
            }
            sendKad(victim, batch);
        }
    }

    /** Sends {@code n} PUT_VALUE records of {@code valueBytes} each on one kad stream. */
    void floodPutValue(PeerId victim, int n, int valueBytes) throws Exception {
        List<KadMessage> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] key = ("/v/" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            batch.add(new KadMessage(KadMessage.Type.PUT_VALUE, key, new KadRecord(key, new byte[valueBytes], ""),
                    List.of(), List.of()));
        }
        sendKad(victim, batch);
    }

    private void sendKad(PeerId victim, List<KadMessage> batch) throws Exception {
        P2pStream s = host.newStream(victim, List.of(KadDht.PROTOCOL),
                st -> st.channel().pipeline().addLast(new KadFrameCodec())).get(30, TimeUnit.SECONDS);
        io.netty.channel.ChannelFuture last = null;
        for (KadMessage m : batch) {
            last = s.channel().write(m);
        }
        s.channel().flush();
        if (last != null) {
            last.awaitUninterruptibly(30, TimeUnit.SECONDS);
        }
        s.closeWrite().exceptionally(e -> null).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        held.forEach(P2pStream::reset);
        host.close();
        pool.shutdownNow();
    }
}
