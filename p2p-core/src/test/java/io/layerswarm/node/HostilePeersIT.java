package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.bandwidth.BandwidthLimiter;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.kad.KadConfig;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.kad.KadMessage;
import io.layerswarm.libp2p.kad.KadPeer;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.testing.Await;
import io.layerswarm.transfer.LayerExchangeServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Hostile peers speaking the real protocols ({@link HostilePeer}) against honest swarm nodes on real
 * libp2p hosts over loopback: honest holder {@code a}, honest puller {@code b}; in the uncapped cases a
 * fresh node {@code c} pulls the same blob from {@code a} alone first, as the baseline. Each case asserts the bounds the
 * nodes expose, that the honest download completes, and that the bad peer is banned or throttled; it
 * prints one {@code figure} line (timings are printed, never asserted: see RELIABILITY.md).
 *
 * <p>The two ban cases run concurrently (each on its own nodes; p2p-core's failsafe run enables JUnit's
 * parallel mode, same-thread by default): their pulls are bound by the holder's upload cap, not by the
 * CPU, so they cost each other little. The other cases take {@link #CPU} exclusively and so never run
 * next to them.
 */
class HostilePeersIT {
    /** Held for reading by the (mostly idle) ban cases, exclusively by the CPU-heavy ones. */
    static final String CPU = "HostilePeersIT.cpu";
    private static final Duration AWAIT = Duration.ofSeconds(30);
    /**
     * Holder upload cap for the cases whose ban must happen during the pull: every node runs with the
     * default settings, so the bad peer (never measured) is given max(5 s, 4 x the holder's measured
     * time per piece) per request, and its pipelined requests time out together.
     */
    private static final long HOLDER_RATE = 2L << 20;

    @TempDir
    Path tmp;
    TestCluster cluster;
    byte[] blob;
    Digest digest;
    TestCluster.Node a;
    TestCluster.Node b;
    long baselineMs;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new TestCluster(tmp);
        blob = LayerSwarmIT.realBlob();
        digest = Digest.sha256(blob);
    }

    /**
     * Starts holder a (uploads capped at {@code holderRate} bytes/s, 0: no cap), then b connected to a.
     * A capped holder makes the honest pull last longer than the bad peer's request timeouts, so the ban
     * can happen during it; its baseline is then the cap's bound ({@code blob / holderRate}), which a
     * measured pull by a fresh node only confirmed at the cost of a second capped pull (~12 s). Uncapped,
     * a fresh node c pulls the blob from a alone first and its time is the baseline.
     */
    void start(long holderRate) throws Exception {
        a = cluster.node("a", config(), h -> {
            if (holderRate > 0) {
                h.bandwidth(BandwidthLimiter.of(holderRate), null);
            }
        });
        a.store().put(blob);
        if (holderRate > 0) {
            baselineMs = blob.length * 1000L / holderRate;
        } else {
            TestCluster.Node c = node("c");
            TestCluster.connectAll(List.of(a.host(), c.host()));
            long t0 = System.nanoTime();
            c.swarm().fetch(digest, blob.length, null).get(60, TimeUnit.SECONDS);
            baselineMs = (System.nanoTime() - t0) / 1_000_000;
            c.host().close();
        }
        b = node("b");
        TestCluster.connectAll(List.of(a.host(), b.host()));
    }

    static SwarmConfig config() {
        return SwarmConfig.defaults().withPieceSize(256 * 1024);
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    TestCluster.Node node(String name) throws Exception {
        return cluster.node(name, config());
    }

    /** When {@code node} first banned {@code source} as a piece source, in {@link System#nanoTime()}; 0: not yet. */
    static AtomicLong banWatch(TestCluster.Node node, HostilePeer source) {
        AtomicLong at = new AtomicLong();
        String id = source.peerId().toBase58();
        node.swarm().addListener(new SwarmListener() {
            @Override
            public void sourceBanned(Digest blob, String s, boolean fromOrigin, String reason) {
                if (s.equals(id)) {
                    at.compareAndSet(0, System.nanoTime());
                }
            }
        });
        return at;
    }

    /** b's download of the blob, checked byte for byte; returns how long it took in ms. */
    long honestDownload(HostilePeer hostile) throws Exception {
        long t0 = System.nanoTime();
        DownloadResult r = b.swarm().fetch(digest, blob.length, null).get(60, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertArrayEquals(blob, Files.readAllBytes(b.store().path(digest)));
        assertEquals(blob.length, r.peerBytes());
        assertFalse(r.bytesBySource().containsKey(hostile.peerId().toBase58()), "nothing came from the bad peer");
        return ms;
    }

    /**
     * No thread of the swarms' io pools is still blocked reading a stream (one the bad peer never finishes);
     * this looks at every swarm in the JVM, so a ban case also waits for the other one's pull to end.
     */
    static void awaitNoReaderLeft() throws InterruptedException {
        Await.until(AWAIT, "no swarm-io thread still reading from a peer", () -> Thread.getAllStackTraces().entrySet()
                .stream().filter(e -> e.getKey().getName().startsWith("swarm-io"))
                .noneMatch(e -> List.of(e.getValue()).stream()
                        .anyMatch(f -> f.getClassName().endsWith("BlockingStreamAdapter$In"))));
    }

    static void figure(String name, long baselineMs, long withMs, ResourceSampler s, String rest) {
        System.out.println("figure case=" + name + " baseline_ms=" + baselineMs + " with_hostile_ms=" + withMs + " "
                + s.maxima() + " " + rest);
    }

    static List<Digest> randomDigests(int n) {
        java.util.Random r = new java.util.Random(7);
        List<Digest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] h = new byte[32];
            r.nextBytes(h);
            out.add(Digest.parse("sha256:" + java.util.HexFormat.of().formatHex(h)));
        }
        return out;
    }

    /**
     * Case 1: a peer announces every layer (the real one and 100 more) and never sends anything: it
     * takes requests and keeps the streams open. Its requests time out, it is banned, and no thread
     * stays blocked on it.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = CPU, mode = ResourceAccessMode.READ)
    void aPeerThatAnnouncesEverythingAndNeverSendsIsBanned() throws Exception {
        List<Digest> all = new ArrayList<>(randomDigests(100));
        all.add(0, digest);
        bannedDuringAPull("silent", HostilePeer.Serving.SILENT, all);
    }

    /**
     * Case 2: a peer answers "have" at once and then drips piece data and piece hashes at one byte per
     * second. Its requests time out, it is banned, and no thread stays blocked reading its drip.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = CPU, mode = ResourceAccessMode.READ)
    void aPeerThatDripsOneBytePerSecondIsBanned() throws Exception {
        bannedDuringAPull("drip", HostilePeer.Serving.DRIP, List.of(digest));
    }

    /** b pulls from a and from a bad peer that announced {@code announced} as held; the bad peer is banned. */
    private void bannedDuringAPull(String name, HostilePeer.Serving serving, List<Digest> announced) throws Exception {
        start(HOLDER_RATE);
        try (HostilePeer h = cluster.add(HostilePeer.start(serving));
             ResourceSampler sampler = new ResourceSampler()) {
            h.connect(b.host());
            h.announceHeld(b.host().peerId(), blob.length, announced);
            Await.until(AWAIT, "b hears of two holders", () -> LayerSwarmIT.await(b.swarm().holders(digest)) == 2);
            AtomicLong banned = banWatch(b, h);
            long t0 = System.nanoTime();
            long ms = honestDownload(h);
            Await.until(AWAIT, "b banned the " + name + " peer", () -> banned.get() != 0);
            awaitNoReaderLeft();
            figure(name, baselineMs, ms, sampler, "ban_ms=" + (banned.get() - t0) / 1_000_000
                    + " announce_state=" + b.swarm().announceState().get(5, TimeUnit.SECONDS));
        }
    }

    /**
     * Case 3: a peer opens everything it can against the holder: 8 more connections, 16 piece requests
     * of 4 MiB it never reads (more than the holder's upload slots), 300 announce streams on which it
     * sends nothing (more than Yamux's 256 streams per connection). The holder keeps at most 4
     * connections and 64 served streams for it, refuses it uploads once one stalled, and b still
     * gets the blob from the holder.
     */
    @Test
    @ResourceLock(CPU)
    void aPeerThatOpensStreamsUpToEveryLimitIsCappedAndRefusedUploads() throws Exception {
        start(0);
        try (HostilePeer h = cluster.add(HostilePeer.start(HostilePeer.Serving.SILENT));
             ResourceSampler sampler = new ResourceSampler()) {
            h.connect(a.host());
            int extra = h.extraConnections(a.host(), 8);
            long toH = a.host().connections().stream().map(Connection::remotePeer).filter(h.peerId()::equals).count();
            assertTrue(toH <= 4, "connections kept for the bad peer: " + toH);
            long t0 = System.nanoTime();
            int requests = h.requestPiecesAndNeverRead(a.host().peerId(), digest, 4 << 20, 16);
            int streams = h.openSilentStreams(a.host().peerId(), LayerSwarm.ANNOUNCE_PROTOCOL, 300);
            int served = a.host().blockingStreams(h.peerId());
            assertTrue(served <= 64, "streams a serves for the bad peer: " + served);
            assertTrue(a.host().streamsRefused() > 0, "a refused streams past the per-peer limit");
            // while the bad peer still holds a's upload slots: b waits for them to be taken back
            long ms = honestDownload(h);
            Await.until(AWAIT, "a refuses uploads to the peer that stalled them",
                    () -> a.swarm().refusesUploadsTo(h.peerId()));
            long throttledMs = (System.nanoTime() - t0) / 1_000_000;
            // honest streams were served meanwhile: the bad peer's did not use up a's workers
            assertTrue(a.host().blockingStreams(b.host().peerId()) <= 64);
            figure("streams", baselineMs, ms, sampler, "extra_connections_accepted=" + extra
                    + " connections_kept=" + toH + " piece_requests_sent=" + requests
                    + " announce_streams_opened=" + streams + " served_for_bad_peer=" + served
                    + " refused_streams=" + a.host().streamsRefused() + " uploads_refused_seen_after_ms=" + throttledMs);
        }
    }

    /**
     * Case 4: a peer floods b with 17 000 announcements of random blobs while b downloads, and floods
     * a's DHT with 60 000 ADD_PROVIDER records (more than the store's 50 000 keys) and 200 PUT_VALUE
     * records of 64 KiB. b remembers at most {@link LayerSwarm#MAX_BLOBS_PER_PEER} blobs for it and
     * forgets them when it leaves; a keeps at most {@code maxKeysPerProvider} records for it and an
     * honest provider's record survives. Then three fresh identities from the same address send 10 000
     * records each: a keeps at most {@code maxRecordsPerAddress} from 127.0.0.1 in all.
     */
    @Test
    @ResourceLock(CPU)
    void aPeerThatFloodsAnnouncementsAndDhtRecordsIsCapped() throws Exception {
        start(0);
        KadHostBinding dhtA = cluster.add(KadHostBinding.attach(a.host(), KadConfig.defaults(), Duration.ofSeconds(10)));
        KadHostBinding dhtB = cluster.add(KadHostBinding.attach(b.host(), KadConfig.defaults(), Duration.ofSeconds(10)));
        byte[] honestKey = io.layerswarm.libp2p.kad.KadDht.providerKey(io.layerswarm.swarm.OciCids.toCid(digest));
        KadPeer aPeer = new KadPeer(a.host().peerId().bytes(), List.of(a.host().listenAddrs().get(0).bytes()),
                KadPeer.Connection.CONNECTED);
        dhtB.send(aPeer, new KadMessage(KadMessage.Type.ADD_PROVIDER, honestKey, null, List.of(), List.of(new KadPeer(
                b.host().peerId().bytes(), List.of(b.host().listenAddrs().get(0).bytes()), KadPeer.Connection.CONNECTED))))
                .get(10, TimeUnit.SECONDS);
        Await.until(AWAIT, "a stores b's record", () -> dhtA.dht().localProviders(honestKey).size() == 1);
        HostilePeer h = cluster.add(HostilePeer.start(HostilePeer.Serving.SILENT));
        try (ResourceSampler sampler = new ResourceSampler()) {
            h.connect(a.host());
            h.connect(b.host());
            long t0 = System.nanoTime();
            CompletableFuture<Integer> flood = CompletableFuture.supplyAsync(() -> {
                try {
                    return h.floodAnnounces(b.host().peerId(), 17_000, 32);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long ms = honestDownload(h);
            int delivered = flood.get(120, TimeUnit.SECONDS);
            long floodMs = (System.nanoTime() - t0) / 1_000_000;
            LayerSwarm.AnnounceState state = b.swarm().announceState().get(5, TimeUnit.SECONDS);
            assertTrue(state.announcedBlobs() <= LayerSwarm.MAX_BLOBS_PER_PEER + 10, "remembered: " + state);
            assertTrue(state.announcesIgnored() >= delivered - LayerSwarm.MAX_BLOBS_PER_PEER,
                    "delivered " + delivered + ", " + state);

            long k0 = System.nanoTime();
            h.floodProviders(a.host().peerId(), 60_000, 2_000);
            h.floodPutValue(a.host().peerId(), 200, 64 * 1024);
            long kadMs = (System.nanoTime() - k0) / 1_000_000;
            int limit = KadConfig.defaults().maxKeysPerProvider();
            Await.until(AWAIT, "a handled the flood", () -> dhtA.dht().providerRecordsRefused() >= 60_000 - limit);
            assertEquals(limit, dhtA.dht().providerRecordsOf(h.peerId().bytes()));
            assertEquals(1, dhtA.dht().localProviders(honestKey).size(), "the honest record survived the flood");
            int records = dhtA.dht().providerRecordCount();
            assertTrue(records <= limit + 1, "records held: " + records);

            // Sybils: fresh identities from the same address (127.0.0.1, like b and h) are not bound by
            // the per-provider cap; the per-address cap binds them together.
            int perAddress = KadConfig.defaults().maxRecordsPerAddress();
            long refusedBefore = dhtA.dht().providerRecordsRefused();
            long s0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                HostilePeer sybil = cluster.add(HostilePeer.start(HostilePeer.Serving.SILENT));
                sybil.connect(a.host());
                sybil.floodProviders(a.host().peerId(), limit, 2_000);
            }
            long sybilMs = (System.nanoTime() - s0) / 1_000_000;
            // 30,000 sent: 20,000 - 10,001 (h's and b's) stored, the rest refused
            int sybilStored = perAddress - (limit + 1);
            Await.until(AWAIT, "a handled the sybils' records",
                    () -> dhtA.dht().providerRecordsRefused() - refusedBefore >= 3L * limit - sybilStored);
            assertEquals(perAddress, dhtA.dht().providerRecordsFrom("127.0.0.1"), "127.0.0.1 is at its cap");
            assertEquals(1, dhtA.dht().localProviders(honestKey).size(), "the honest record survived the sybils");
            int recordsAfterSybils = dhtA.dht().providerRecordCount();
            assertTrue(recordsAfterSybils <= perAddress, "records held: " + recordsAfterSybils);

            h.close();
            Await.until(AWAIT, "b forgets what the bad peer announced once it left",
                    () -> LayerSwarmIT.await(b.swarm().announceState()).announcedBlobs() <= 1);
            figure("floods", baselineMs, ms, sampler, "announces_delivered=" + delivered + " announce_flood_ms=" + floodMs
                    + " announce_state=" + state + " provider_records_sent=60000 provider_records_held=" + records
                    + " provider_records_refused=" + dhtA.dht().providerRecordsRefused() + " put_value_sent=200"
                    + " kad_flood_ms=" + kadMs + " sybil_records_sent=" + 3 * limit + " provider_records_held_after_sybils="
                    + recordsAfterSybils + " from_127.0.0.1=" + dhtA.dht().providerRecordsFrom("127.0.0.1")
                    + " sybil_flood_ms=" + sybilMs);
        }
    }
}
