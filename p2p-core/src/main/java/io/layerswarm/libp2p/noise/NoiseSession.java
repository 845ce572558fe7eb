package io.layerswarm.libp2p.noise;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;
import java.util.List;
import java.util.Optional;

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

    /**
     * The stream muxer chosen by early (inlined) muxer negotiation, as js-libp2p's Noise does it: when
     * this side advertised {@code localMuxers} in its handshake
     * ({@link NoiseSecurity#withStreamMuxers}) and the remote advertised a list too, the muxer is the
     * first of the remote's list that this side supports, and no multistream-select round for the
     * muxer follows. Empty when either side advertised nothing: then negotiate the muxer with
     * multistream-select as usual. Note that js-libp2p always advertises, so advertising locally
     * commits both sides to the early path.
     *
     * @throws NoiseException if both advertised but share no muxer (the connection must be closed)
     */
    public Optional<String> earlyMuxer(List<String> localMuxers) {
        if (localMuxers.isEmpty() || remoteStreamMuxers.isEmpty()) {
            return Optional.empty();
        }
        for (String m : remoteStreamMuxers) {
            if (localMuxers.contains(m)) {
                return Optional.of(m);
            }
        }
        throw new NoiseException("early muxer negotiation: no common stream muxer (local " + localMuxers
                + ", remote " + remoteStreamMuxers + ")");
    }
}
