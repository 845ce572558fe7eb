package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.UplinkEmulator;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The benchmarks' remote registry: the real docker-registry on loopback, reachable for the clients only
 * through an {@link UplinkEmulator} (one token bucket for all connections, added round trip). Images are
 * pushed straight to the registry, not through the uplink.
 */
final class UplinkedRegistry implements AutoCloseable {
    private final RegistryFixture registry;
    private final UplinkEmulator uplink;

    private UplinkedRegistry(RegistryFixture registry, UplinkEmulator uplink) {
        this.registry = registry;
        this.uplink = uplink;
    }

    /** Starts the registry and its uplink ({@code mbps} Mbit/s from the registry, {@code rtt} added) on loopback. */
    static UplinkedRegistry start(double mbps, Duration rtt) {
        return start(mbps, rtt, InetAddress.getLoopbackAddress());
    }

    /** Like {@link #start(double, Duration)}, the uplink listening on {@code listen} (any port). */
    static UplinkedRegistry start(double mbps, Duration rtt, InetAddress listen) {
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        try {
            UplinkEmulator uplink = UplinkEmulator.start(new InetSocketAddress(listen, 0),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), registry.port()), (long) (mbps * 1e6), rtt);
            return new UplinkedRegistry(registry, uplink);
        } catch (IOException | RuntimeException e) {
            registry.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** Pushes every image of the corpus to the registry (skopeo, not through the uplink). */
    void push(Corpus corpus) {
        corpus.pushTo(directUrl());
    }

    /** The registry's own {@code http://} URL, bypassing the uplink (for pushes). */
    String directUrl() {
        return registry.baseUri().toString();
    }

    /** {@code ADDRESS:PORT} of the uplink: the registry host clients name in image references. */
    String host() {
        return uplink.address().getAddress().getHostAddress() + ":" + uplink.address().getPort();
    }

    /** {@code http://} URL of the uplink. */
    String url() {
        return "http://" + host();
    }

    /** Blob bytes the registry has served so far (GETs, from its access log). */
    long blobBytes() {
        return registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public void close() {
        try {
            uplink.close();
        } finally {
            registry.close();
        }
    }
}
