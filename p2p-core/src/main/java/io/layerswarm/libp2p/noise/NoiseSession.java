package io.layerswarm.libp2p.noise;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;
import java.util.List;

/**
 * The outcome of a libp2p Noise handshake.
 *
 * @param remotePeerId the authenticated remote peer
 * @param remoteIdentityKey the remote identity key that signed its Noise static key
 * @param remoteStreamMuxers stream muxers the remote advertised in its handshake extensions
 *     (empty if none; early muxer negotiation is the host's decision)
 * @param handshakeHash the Noise handshake hash (channel binding)
 */
public record NoiseSession(PeerId remotePeerId, PublicKey remoteIdentityKey, List<String> remoteStreamMuxers,
        byte[] handshakeHash) {

    /** Copies the lists/arrays. */
    public NoiseSession {
        remoteStreamMuxers = List.copyOf(remoteStreamMuxers);
        handshakeHash = handshakeHash.clone();
    }

    @Override
    public byte[] handshakeHash() {
        return handshakeHash.clone();
    }
}
