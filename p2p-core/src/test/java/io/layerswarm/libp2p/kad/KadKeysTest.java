package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerswarm.libp2p.multiformats.Cid;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.OciCids;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class KadKeysTest {

    @Test
    void ociDigestMapsToRawCidAndMultihashKey() {
        Digest d = Digest.sha256("hello".getBytes(StandardCharsets.UTF_8));
        byte[] key = KadDht.providerKey(OciCids.toCid(d));
        assertEquals("1220" + d.hex(), HexFormat.of().formatHex(key));
        // bafkrei… is the base32 CIDv1 raw sha2-256 of "hello", as `ipfs add --raw-leaves --cid-version 1` gives.
        Cid cid = Cid.parse("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq");
        assertArrayEquals(key, KadDht.providerKey(cid));
    }
}
