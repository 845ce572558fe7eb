package io.layerswarm.swarm;

import io.layerswarm.libp2p.multiformats.Cid;
import io.layerswarm.libp2p.multiformats.Multicodec;
import io.layerswarm.libp2p.multiformats.Multihash;
import io.layerswarm.oci.Digest;

/**
 * Maps OCI content digests to CIDv1s (raw codec) and back, so layers can be announced and looked up
 * by content in libp2p content routing.
 */
public final class OciCids {

    private OciCids() {
    }

    /** The raw-codec CIDv1 naming the blob with {@code digest}. */
    public static Cid toCid(Digest digest) {
        int code = switch (digest.algorithm()) {
            case SHA256 -> Multicodec.SHA2_256;
            case SHA512 -> Multicodec.SHA2_512;
        };
        return Cid.v1(Multicodec.RAW, Multihash.of(code, digest.hashBytes()));
    }

    /**
     * The OCI digest named by a raw-codec CID.
     *
     * @throws IllegalArgumentException if the CID is not raw or its hash is not sha2-256/512
     */
    public static Digest toDigest(Cid cid) {
        if (cid.codec() != Multicodec.RAW) {
            throw new IllegalArgumentException("CID codec 0x" + Long.toHexString(cid.codec())
                    + " is not raw (0x55); not an OCI blob");
        }
        Multihash mh = cid.multihash();
        return switch (mh.code()) {
            case Multicodec.SHA2_256 -> Digest.fromHash(Digest.Algorithm.SHA256, mh.digest());
            case Multicodec.SHA2_512 -> Digest.fromHash(Digest.Algorithm.SHA512, mh.digest());
            default -> throw new IllegalArgumentException("CID hash 0x" + Integer.toHexString(mh.code())
                    + " has no OCI digest algorithm");
        };
    }
}
