package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a node can serve: complete blobs from its content store and verified pieces of blobs it is
 * still downloading (partial seeding).
 */
public interface LocalBlobs {

    /** Size of a blob this node holds all or part of. */
    OptionalLong size(Digest digest);

    /** Which pieces of {@code layout} are held and verified. */
    Optional<Bitfield> pieces(Digest digest, PieceLayout layout);

    /** The piece hashes for {@code layout}, if this node knows them. */
    Optional<PieceHashes> hashes(Digest digest, PieceLayout layout) throws IOException;

    /**
     * Opens exactly {@code [offset, offset + length)}, which must lie within held, verified pieces.
     *
     * @throws IOException if that range is not held
     */
    InputStream open(Digest digest, long offset, int length) throws IOException;
}
