package io.layerswarm.nat.ice;

import java.util.List;
import java.util.Objects;

/**
 * A message of the ICE exchange ({@value HolePuncher#PROTOCOL}). OFFER and ANSWER carry the sender's ICE
 * credentials and at most {@value #MAX_CANDIDATES} candidates; READY and FAIL carry neither (FAIL a reason).
 */
public record IceMessage(Type type, String ufrag, String pwd, List<IceCandidate> candidates, String reason) {
    /** Most candidates one side may send: this bounds the check list and so the checks sent. */
    public static final int MAX_CANDIDATES = 8;

    /** The message types, in the order of the exchange. */
    public enum Type {
        OFFER, ANSWER, READY, FAIL
    }

    /** Checks the credentials (RFC 8445 5.3: ufrag 4-256, pwd 22-256 ice-chars) and the candidate bound. */
    public IceMessage {
        Objects.requireNonNull(type, "type");
        candidates = List.copyOf(candidates);
        reason = reason == null ? "" : reason;
        boolean offer = type == Type.OFFER || type == Type.ANSWER;
        if (offer) {
            if (ufrag == null || ufrag.length() < 4 || ufrag.length() > 256 || !isIceChars(ufrag)) {
                throw new IllegalArgumentException("ufrag must be 4-256 ice-chars");
            }
            if (pwd == null || pwd.length() < 22 || pwd.length() > 256 || !isIceChars(pwd)) {
                throw new IllegalArgumentException("pwd must be 22-256 ice-chars");
            }
            if (candidates.isEmpty() || candidates.size() > MAX_CANDIDATES) {
                throw new IllegalArgumentException("an " + type + " needs 1-" + MAX_CANDIDATES + " candidates, got "
                        + candidates.size());
            }
        } else if (ufrag != null || pwd != null || !candidates.isEmpty()) {
            throw new IllegalArgumentException(type + " carries no credentials or candidates");
        }
        if (reason.length() > 256) {
            throw new IllegalArgumentException("reason longer than 256 characters");
        }
    }

    /** An OFFER or ANSWER. */
    public static IceMessage offer(Type type, String ufrag, String pwd, List<IceCandidate> candidates) {
        return new IceMessage(type, ufrag, pwd, candidates, null);
    }

    /** READY: the dialler's checks nominated a pair; from the listener, its end of that path accepts QUIC. */
    public static IceMessage ready() {
        return new IceMessage(Type.READY, null, null, List.of(), null);
    }

    /** FAIL with {@code reason} (cut to 256 characters). */
    public static IceMessage fail(String reason) {
        String r = String.valueOf(reason);
        return new IceMessage(Type.FAIL, null, null, List.of(), r.length() > 256 ? r.substring(0, 256) : r);
    }

    /** Whether {@code s} has only ICE characters ({@code ALPHA / DIGIT / "+" / "/"}). */
    static boolean isIceChars(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+'
                    || c == '/';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
