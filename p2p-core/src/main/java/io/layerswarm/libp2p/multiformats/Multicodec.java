package io.layerswarm.libp2p.multiformats;

/** Multicodec table entries used by LayerSwarm. */
public final class Multicodec {

    /** identity multihash (no hashing). */
    public static final int IDENTITY = 0x00;
    /** sha2-256 multihash. */
    public static final int SHA2_256 = 0x12;
    /** sha2-512 multihash. */
    public static final int SHA2_512 = 0x13;
    /** raw binary content codec. */
    public static final int RAW = 0x55;
    /** MerkleDAG protobuf codec (CIDv0's implied codec). */
    public static final int DAG_PB = 0x70;
    /** libp2p public key codec (peer ids as CIDs). */
    public static final int LIBP2P_KEY = 0x72;

    private Multicodec() {
    }
}
