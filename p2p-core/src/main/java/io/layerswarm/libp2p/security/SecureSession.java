package io.layerswarm.libp2p.security;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;
import java.util.List;

/**
 * The outcome of the security phase, whichever transport was negotiated.
 *
 * @param protocol the negotiated security protocol ({@code /noise} or {@code /tls/1.0.0})
 * @param remotePeerId the authenticated remote peer
 * @param remoteIdentityKey the remote identity key
 * @param remoteStreamMuxers muxers the remote advertised in the handshake (Noise extensions; empty for TLS)
 */
public record SecureSession(String protocol, PeerId remotePeerId, PublicKey remoteIdentityKey,
        List<String> remoteStreamMuxers) {

    /** Copies the list. */
    public SecureSession {
        remoteStreamMuxers = List.copyOf(remoteStreamMuxers);
    }
}
