package io.layerswarm.swarm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.libp2p.multiformats.Cid;
import io.layerswarm.libp2p.multiformats.Multicodec;
import io.layerswarm.libp2p.multiformats.Multihash;
import io.layerswarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OciCidsTest {

    @Test
    void ociDigestRoundTrip() {
        Digest d = Digest.sha256("layer".getBytes(StandardCharsets.UTF_8));
        Cid cid = OciCids.toCid(d);
        assertEquals(Multicodec.RAW, cid.codec());
        assertEquals(1, cid.version());
        assertArrayEquals(d.hashBytes(), cid.multihash().digest());
        assertEquals(d, OciCids.toDigest(Cid.parse(cid.toString())));
        assertEquals("bafkrei", cid.toString().substring(0, 7)); // raw + sha2-256 CIDs start like this
        Digest d512 = Digest.of(Digest.Algorithm.SHA512, new byte[] {1});
        assertEquals(d512, OciCids.toDigest(OciCids.toCid(d512)));
        assertThrows(IllegalArgumentException.class,
                () -> OciCids.toDigest(Cid.v1(Multicodec.DAG_PB, cid.multihash())));
        assertThrows(IllegalArgumentException.class,
                () -> OciCids.toDigest(Cid.v1(Multicodec.RAW, Multihash.identity(new byte[] {1}))));
    }
}
