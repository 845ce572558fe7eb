package io.layerswarm.k8s.status;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Checks a signed record on its own: the peer id inlines an Ed25519 key, the signature over domain and
 * payload verifies with it, and the validity window is sane and open now (allowing some clock skew).
 * Ordering against earlier records (versions, which key owns a node name) is the view's job.
 */
public final class StatusRecordVerifier {
    private final Clock clock;
    private final Duration maxTtl;
    private final Duration skew;

    /**
     * @param clock time source
     * @param maxTtl longest validity window accepted (a record cannot make itself immortal)
     * @param skew how far in the future a record's issue time may lie
     */
    public StatusRecordVerifier(Clock clock, Duration maxTtl, Duration skew) {
        this.clock = clock;
        this.maxTtl = maxTtl;
        this.skew = skew;
    }

    /** Why a record was rejected. */
    public enum Rejection {
        /** The signature or key does not check out. */
        FORGED,
        /** Its window has closed. */
        EXPIRED,
        /** Issued too far in the future, or valid for too long. */
        BAD_WINDOW
    }

    /** Empty when the record may be believed now, else why not. */
    public Optional<Rejection> check(SignedStatusRecord r) {
        PeerId peer;
        try {
            peer = PeerId.parse(r.record().peerId());
        } catch (RuntimeException e) {
            return Optional.of(Rejection.FORGED);
        }
        Optional<PublicKey> key = peer.publicKey();
        if (key.isEmpty() || !key.get().verify(StatusRecordCodec.signedBytes(r.payload()), r.signature())) {
            return Optional.of(Rejection.FORGED);
        }
        long now = clock.millis();
        StatusRecord rec = r.record();
        if (rec.issuedAtMillis() > now + skew.toMillis() || rec.expiresAtMillis() - rec.issuedAtMillis() > maxTtl.toMillis()) {
            return Optional.of(Rejection.BAD_WINDOW);
        }
        if (rec.expiresAtMillis() <= now) {
            return Optional.of(Rejection.EXPIRED);
        }
        return Optional.empty();
    }
}
