package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;

/**
 * The outcome of a libp2p TLS handshake.
 *
 * @param remotePeerId the peer authenticated by the remote certificate's libp2p extension
 * @param remoteIdentityKey the identity key carried (and proven) in that extension
 * @param cipherSuite the negotiated TLS 1.3 cipher suite
 */
public record TlsSession(PeerId remotePeerId, PublicKey remoteIdentityKey, String cipherSuite) {
}
