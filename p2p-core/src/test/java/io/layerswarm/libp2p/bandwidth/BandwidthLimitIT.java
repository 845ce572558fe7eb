package io.layerswarm.libp2p.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Real hosts over loopback: one limit holds for all connections of a host together. The assertion is
 * a bound a correct limiter cannot break (the bytes cannot arrive faster than rate x time + burst),
 * not a speed goal; the measured rates are in BENCHMARKS.md ({@code layerswarm bench-ratelimit}).
 */
class BandwidthLimitIT {
    private static final String SOURCE = "/test/source/1.0.0";
    private static final long RATE = 4_000_000; // bytes per second
    private static final int PER_PEER = 3 << 20;

    private static Host host(BandwidthLimiter up, BandwidthLimiter down) throws Exception {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .bandwidth(up, down).build().start();
    }

    private static void serve(Host h) {
        h.setBlockingHandler(SOURCE, s -> {
            byte[] chunk = new byte[64 * 1024];
            try (OutputStream out = s.outputStream()) {
                for (int sent = 0; sent < PER_PEER; sent += chunk.length) {
                    out.write(chunk);
                }
            }
        });
    }

    private static Multiaddr addr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    /**
     * Each reader reads one source stream from its target, all at once; returns seconds from the first
     * dial (a source starts sending as soon as its stream opens) until the last stream is done.
     */
    private static double readAll(List<Host> readers, List<Host> targets) throws Exception {
        long t0 = System.nanoTime();
        List<P2pStream> streams = new ArrayList<>();
        for (int i = 0; i < readers.size(); i++) {
            streams.add(readers.get(i).newStream(addr(targets.get(i)), List.of(SOURCE)).get(20, TimeUnit.SECONDS));
        }
        List<CompletableFuture<Long>> got = new ArrayList<>();
        for (P2pStream s : streams) {
            got.add(CompletableFuture.supplyAsync(() -> {
                try (InputStream in = s.inputStream()) {
                    return in.transferTo(OutputStream.nullOutputStream());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        for (CompletableFuture<Long> f : got) {
            assertEquals(PER_PEER, f.get(60, TimeUnit.SECONDS));
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void closeAll(List<Host> hosts) {
        hosts.forEach(Host::close);
    }

    @Test
    void oneUploadLimitCoversEveryPeer() throws Exception {
        BandwidthLimiter up = BandwidthLimiter.of(RATE);
        List<Host> hosts = new ArrayList<>();
        try {
            Host seeder = host(up, null);
            hosts.add(seeder);
            serve(seeder);
            List<Host> readers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                readers.add(host(null, null));
            }
            hosts.addAll(readers);
            double secs = readAll(readers, List.of(seeder, seeder, seeder));
            long total = 3L * PER_PEER;
            // 9 MiB through a 4 MB/s bucket with a 400 kB burst cannot take less than ~2.25 s
            double floor = (total - Math.max(BandwidthLimiter.MIN_BURST, RATE / 10)) / (double) RATE;
            assertTrue(secs >= floor, "3 peers got " + total + " bytes in " + secs + " s; the limit allows no less than "
                    + floor + " s");
            assertTrue(up.bytes() >= total, "every byte on the wire passed the limiter: " + up.bytes());
        } finally {
            closeAll(hosts);
        }
    }

    @Test
    void oneDownloadLimitCoversEverySeeder() throws Exception {
        BandwidthLimiter down = BandwidthLimiter.of(RATE);
        List<Host> hosts = new ArrayList<>();
        try {
            Host reader = host(null, down);
            hosts.add(reader);
            List<Host> seeders = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Host s = host(null, null);
                serve(s);
                seeders.add(s);
            }
            hosts.addAll(seeders);
            double secs = readAll(List.of(reader, reader, reader), seeders);
            long total = 3L * PER_PEER;
            // what the kernel buffered before reading paused arrives without waiting: allow 1 MiB per connection
            double floor = (total - Math.max(BandwidthLimiter.MIN_BURST, RATE / 10) - 3 * (1 << 20)) / (double) RATE;
            assertTrue(secs >= floor, "got " + total + " bytes from 3 seeders in " + secs + " s; the limit allows no"
                    + " less than " + floor + " s");
            assertTrue(down.bytes() >= total, "every byte read passed the limiter: " + down.bytes());
        } finally {
            closeAll(hosts);
        }
    }
}
