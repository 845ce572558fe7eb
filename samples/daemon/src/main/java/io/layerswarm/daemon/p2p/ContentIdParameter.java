package io.layerswarm.daemon.p2p;

import io.layerswarm.libp2p.multiformats.Cid;
import picocli.CommandLine.Parameters;

/** The CID-or-OCI-digest positional argument of the DHT commands (a picocli mixin). */
final class ContentIdParameter {

    @Parameters(index = "0", paramLabel = "CID", converter = ContentIdConverter.class,
            description = "CID or OCI digest (sha256:<hex>) of the content")
    Cid cid;
}
