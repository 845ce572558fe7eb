package io.layerswarm.libp2p.host;

import java.util.HashMap;
import java.util.Map;

/**
 * Counts inbound connections whose upgrade (private-network handshake, security handshake, muxer
 * negotiation) has not finished, per remote IP address and in total, and admits a new one only below
 * both caps.
 *
 * <p>Why: the connection caps of {@link ConnectionManager} apply once a connection is upgraded, so
 * until then a peer that opens TCP connections and never speaks holds a socket, a pipeline and a
 * handshake timer each, for the whole handshake timeout, with no bound but the file descriptors.
 * Refusing at accept time costs an honest peer nothing: its handshake takes milliseconds, so it
 * rarely has more than one in progress.
 */
final class HandshakeLimiter {

    /** Outcome of {@link #admit}. */
    enum Admission {
        /** Counted; {@link #release} it when the upgrade ends, whichever way. */
        ADMITTED,
        /** The remote address already has its cap of handshakes in progress. */
        ADDRESS_LIMIT,
        /** The host already has its cap of handshakes in progress. */
        LIMIT
    }

    private final int maxPerAddress;
    private final int maxTotal;
    private final Map<String, Integer> byAddress = new HashMap<>();
    private int total;
    private long refused;
    /** When the last refusal was logged (nanoTime), and how many refusals were left out since. */
    private long lastLoggedNanos;
    private boolean loggedAny;
    private long unlogged;

    HandshakeLimiter(int maxPerAddress, int maxTotal) {
        if (maxPerAddress < 1 || maxTotal < 1) {
            throw new IllegalArgumentException("handshake caps must be positive: " + maxPerAddress + ", " + maxTotal);
        }
        this.maxPerAddress = maxPerAddress;
        this.maxTotal = maxTotal;
    }

    /** Counts a handshake from {@code address} if both caps allow it. */
    synchronized Admission admit(String address) {
        Admission a = byAddress.getOrDefault(address, 0) >= maxPerAddress ? Admission.ADDRESS_LIMIT
                : total >= maxTotal ? Admission.LIMIT : Admission.ADMITTED;
        if (a == Admission.ADMITTED) {
            byAddress.merge(address, 1, Integer::sum);
            total++;
        } else {
            refused++;
        }
        return a;
    }

    /** Ends an admitted handshake (call exactly once per {@link Admission#ADMITTED}). */
    synchronized void release(String address) {
        byAddress.computeIfPresent(address, (k, n) -> n <= 1 ? null : n - 1);
        total--;
    }

    /** The cap that {@code a} hit. */
    int limitOf(Admission a) {
        return a == Admission.ADDRESS_LIMIT ? maxPerAddress : maxTotal;
    }

    /** Handshakes in progress. */
    synchronized int inProgress() {
        return total;
    }

    /** Handshakes in progress from one address. */
    synchronized int inProgressFrom(String address) {
        return byAddress.getOrDefault(address, 0);
    }

    /**
     * Whether the refusal just counted gets a log line: at most one line per {@code interval}, so a flood of
     * connections cannot flood the log too.
     *
     * @return the refusals left out of the log since the last line (the line says so), or -1: stay silent
     */
    synchronized long logRefusal(long nowNanos, long intervalNanos) {
        if (loggedAny && nowNanos - lastLoggedNanos < intervalNanos) {
            unlogged++;
            return -1;
        }
        long left = unlogged;
        unlogged = 0;
        loggedAny = true;
        lastLoggedNanos = nowNanos;
        return left;
    }

    /** Connections refused so far. */
    synchronized long refused() {
        return refused;
    }
}
