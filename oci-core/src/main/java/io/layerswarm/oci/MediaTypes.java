package io.layerswarm.oci;

import java.util.Set;

/** Media types of the OCI image spec and Docker's schema 2. */
public final class MediaTypes {
    private MediaTypes() {
    }

    /** OCI image manifest. */
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    /** OCI image index. */
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    /** OCI image config. */
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    /** OCI layer, uncompressed tar. */
    public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    /** OCI layer, gzip-compressed tar. */
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    /** OCI layer, zstd-compressed tar. */
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    /** Docker schema 2 manifest. */
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    /** Docker manifest list. */
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    /** Docker image config. */
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    /** Docker layer, gzip-compressed tar. */
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /** OCI non-distributable layer, uncompressed (deprecated by the spec but still seen). */
    public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    /** OCI non-distributable layer, gzip. */
    public static final String OCI_LAYER_NONDISTRIBUTABLE_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    /** OCI non-distributable layer, zstd. */
    public static final String OCI_LAYER_NONDISTRIBUTABLE_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    /** Docker foreign layer (e.g. Windows base layers). */
    public static final String DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /** Manifest types (single image). */
    public static final Set<String> IMAGE_MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
    /** Index types (multi-platform). */
    public static final Set<String> INDEXES = Set.of(OCI_INDEX, DOCKER_MANIFEST_LIST);
    /** Layer types this project can apply. */
    public static final Set<String> LAYERS = Set.of(OCI_LAYER_TAR, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, DOCKER_LAYER_GZIP);
    /** Every layer type a manifest may list: {@link #LAYERS} plus non-distributable and foreign ones. */
    public static final Set<String> MANIFEST_LAYERS = Set.of(OCI_LAYER_TAR, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
            DOCKER_LAYER_GZIP, OCI_LAYER_NONDISTRIBUTABLE_TAR, OCI_LAYER_NONDISTRIBUTABLE_GZIP,
            OCI_LAYER_NONDISTRIBUTABLE_ZSTD, DOCKER_LAYER_FOREIGN_GZIP);
    /** Image config types. */
    public static final Set<String> CONFIGS = Set.of(OCI_CONFIG, DOCKER_CONFIG);
    /** Everything a registry may return for a manifest request: manifests and indexes. */
    public static final Set<String> MANIFESTS_AND_INDEXES = Set.of(OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX,
            DOCKER_MANIFEST_LIST);

    /** Whether a layer media type is gzip-compressed. */
    public static boolean isGzipLayer(String mediaType) {
        return OCI_LAYER_GZIP.equals(mediaType) || DOCKER_LAYER_GZIP.equals(mediaType)
                || OCI_LAYER_NONDISTRIBUTABLE_GZIP.equals(mediaType) || DOCKER_LAYER_FOREIGN_GZIP.equals(mediaType);
    }

    /** Whether a layer media type is zstd-compressed. */
    public static boolean isZstdLayer(String mediaType) {
        return OCI_LAYER_ZSTD.equals(mediaType) || OCI_LAYER_NONDISTRIBUTABLE_ZSTD.equals(mediaType);
    }
}
