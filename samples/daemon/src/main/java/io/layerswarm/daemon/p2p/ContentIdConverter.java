package io.layerswarm.daemon.p2p;

import io.layerswarm.libp2p.multiformats.Cid;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.OciCids;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a CID, or an OCI digest {@code sha256:<hex>} mapped to its raw CIDv1. */
final class ContentIdConverter implements ITypeConverter<Cid> {

    @Override
    public Cid convert(String value) {
        try {
            if (value.contains(":")) {
                return OciCids.toCid(Digest.parse(value));
            }
            return Cid.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("not a CID or OCI digest: '" + value + "' (" + e.getMessage() + ")");
        }
    }
}
