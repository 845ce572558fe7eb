package io.layerswarm.cache.sim;

import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates a deployment trace and the images it names, seeded and deterministic.
 *
 * <p><b>Images.</b> From a base catalog (the real Debian-package corpus) it derives:
 * {@code baseVersions} versions of every base image (version 0 is the real image; version k keeps
 * every layer but the top one, which becomes a new layer of the same size +-10%, as a patch
 * release would), and {@code apps} applications, each built on one base image (picked with Zipf
 * skew 1.0, so a few bases carry most apps), released in {@code appVersions} versions. An app
 * version adds a dependencies layer (log-normal, median {@code depsMedianBytes}, new every
 * {@code depsEvery} versions) and a code layer (log-normal, median {@code codeMedianBytes}, new
 * every version). Derived digests are sha256 of a name that includes the seed.
 *
 * <p><b>Requests</b>, after the IBM registry study (Anwar et al., FAST'18): image popularity is
 * Zipf with exponent {@code zipf} over all images, which with the default puts more than half of
 * the requests on the top 1% of images (the study found heavy skew of this kind); the ranks of the
 * tail (not the top 1%) are partly reshuffled {@code epochs} times ({@code churn} of them each
 * time), as new versions rise and old ones fade; requests come in bursts (a rollout: a geometric
 * number of pulls of one image with mean {@code burstMean}, spread over {@code burstSpreadMs},
 * bursts starting with exponential gaps of mean {@code meanGapMs}); and each image has
 * {@code homeNodes} home nodes that receive a pull with probability {@code locality} (per-node
 * locality), any node otherwise.
 */
public final class TraceGenerator {

    /**
     * Generator parameters; {@link #defaults()} documents the benchmark's choice.
     *
     * @param seed random seed
     * @param nodes cluster size
     * @param requests number of image pulls
     * @param baseVersions versions derived from each base image (1 = the real image only)
     * @param apps applications derived on top of base images
     * @param appVersions versions per application
     * @param depsEvery app versions sharing one dependencies layer
     * @param depsMedianBytes median dependencies layer size
     * @param codeMedianBytes median code layer size
     * @param zipf popularity exponent over images
     * @param epochs popularity reshuffles over the trace
     * @param churn fraction of tail ranks reshuffled per epoch
     * @param burstMean mean pulls per burst
     * @param burstSpreadMs time over which a burst's pulls spread
     * @param meanGapMs mean time between burst starts
     * @param homeNodes home nodes per image
     * @param locality probability that a pull goes to a home node
     */
    public record Params(long seed, int nodes, int requests, int baseVersions, int apps, int appVersions,
                         int depsEvery, long depsMedianBytes, long codeMedianBytes, double zipf,
                         int epochs, double churn, double burstMean, long burstSpreadMs, long meanGapMs,
                         int homeNodes, double locality) {

        /** Validates ranges. */
        public Params {
            if (nodes < 1 || requests < 1 || baseVersions < 1 || apps < 0 || appVersions < 1 || depsEvery < 1
                    || zipf <= 0 || epochs < 1 || churn < 0 || churn > 1 || burstMean < 1
                    || homeNodes < 1 || locality < 0 || locality > 1 || meanGapMs < 1 || burstSpreadMs < 0) {
                throw new IllegalArgumentException("invalid trace generator parameters: " + this);
            }
        }

        /**
         * The benchmark's parameters: 8 nodes, 40,000 pulls, 3 versions per base image, 60 apps in
         * 6 versions, deps layer median 40 MB changing every 3 versions, code layer median 8 MB,
         * Zipf 1.4, 10 epochs with 30% tail churn, bursts of mean 3 pulls within 10 s every 30 s on
         * average, 2 home nodes with 80% locality.
         */
        public static Params defaults() {
            return new Params(42, 8, 40_000, 3, 60, 6, 3, 40_000_000L, 8_000_000L, 1.4,
                    10, 0.3, 3.0, 10_000, 30_000, 2, 0.8);
        }

        /** The same parameters with another seed, node count and request count. */
        public Params with(long newSeed, int newNodes, int newRequests) {
            return new Params(newSeed, newNodes, newRequests, baseVersions, apps, appVersions, depsEvery,
                    depsMedianBytes, codeMedianBytes, zipf, epochs, churn, burstMean, burstSpreadMs, meanGapMs,
                    homeNodes, locality);
        }
    }

    /**
     * A generated workload.
     *
     * @param images the derived images file
     * @param events the trace, in time order
     * @param topOnePercentShare share of pulls that went to the 1% most pulled images
     */
    public record Generated(ImageCatalog images, List<TraceEvent> events, double topOnePercentShare) {
    }

    private TraceGenerator() {
    }

    /** Generates images and trace from {@code base} with {@code params}. */
    public static Generated generate(ImageCatalog base, Params params) {
        if (base.size() == 0) {
            throw new IllegalArgumentException("base images file lists no image");
        }
        Random rnd = new Random(params.seed());
        ImageCatalog images = deriveImages(base, params, rnd);
        List<String> names = images.names();
        int n = names.size();

        int[] rankToImage = new int[n];
        for (int i = 0; i < n; i++) {
            rankToImage[i] = i;
        }
        shuffle(rankToImage, 0, rnd);
        int top = Math.max(1, (int) Math.ceil(n * 0.01));
        double[] cdf = zipfCdf(n, params.zipf());
        int[][] homes = new int[n][];
        for (int i = 0; i < n; i++) {
            homes[i] = pickDistinct(Math.min(params.homeNodes(), params.nodes()), params.nodes(), rnd);
        }

        List<TraceEvent> events = new ArrayList<>(params.requests());
        int perEpoch = (params.requests() + params.epochs() - 1) / params.epochs();
        int nextEpoch = perEpoch;
        long t = 0;
        while (events.size() < params.requests()) {
            if (events.size() >= nextEpoch) {
                churn(rankToImage, top, params.churn(), rnd);
                nextEpoch += perEpoch;
            }
            t += (long) Math.ceil(-Math.log(1 - rnd.nextDouble()) * params.meanGapMs());
            int image = rankToImage[sample(cdf, rnd.nextDouble())];
            int pulls = geometric(params.burstMean(), rnd);
            for (int k = 0; k < pulls && events.size() < params.requests(); k++) {
                int node = rnd.nextDouble() < params.locality()
                        ? homes[image][rnd.nextInt(homes[image].length)]
                        : rnd.nextInt(params.nodes());
                long ts = t + (params.burstSpreadMs() == 0 ? 0 : (long) (rnd.nextDouble() * params.burstSpreadMs()));
                events.add(new TraceEvent(ts, "node-" + node, names.get(image)));
            }
        }
        events.sort(Comparator.comparingLong(TraceEvent::ts));
        return new Generated(images, List.copyOf(events), topShare(events, top));
    }

    /** Share of events on the {@code top} most requested images. */
    static double topShare(List<TraceEvent> events, int top) {
        Map<String, Integer> counts = new HashMap<>();
        for (TraceEvent e : events) {
            counts.merge(e.image(), 1, Integer::sum);
        }
        long inTop = counts.values().stream().sorted(Comparator.reverseOrder()).limit(top)
                .mapToLong(Integer::longValue).sum();
        return events.isEmpty() ? 0 : (double) inTop / events.size();
    }

    private static ImageCatalog deriveImages(ImageCatalog base, Params p, Random rnd) {
        Map<String, ImageRequest> out = new LinkedHashMap<>();
        List<String> baseNames = base.names();
        for (String name : baseNames) {
            ImageRequest real = base.get(name);
            out.put(name, real);
            for (int v = 1; v < p.baseVersions(); v++) {
                List<LayerRef> layers = new ArrayList<>(real.layers());
                if (!layers.isEmpty()) {
                    LayerRef topLayer = layers.remove(layers.size() - 1);
                    long size = Math.max(1, Math.round(topLayer.size() * (0.9 + 0.2 * rnd.nextDouble())));
                    layers.add(new LayerRef(digest(p.seed(), name + "#patch" + v), size));
                }
                out.put(versioned(name, "p" + v), new ImageRequest(versioned(name, "p" + v), layers));
            }
        }
        double[] baseCdf = zipfCdf(baseNames.size(), 1.0);
        for (int a = 0; a < p.apps(); a++) {
            String baseName = baseNames.get(sample(baseCdf, rnd.nextDouble()));
            List<LayerRef> baseLayers = base.get(baseName).layers();
            String app = String.format("app%02d", a);
            LayerRef deps = null;
            for (int v = 0; v < p.appVersions(); v++) {
                if (v % p.depsEvery() == 0) {
                    deps = new LayerRef(digest(p.seed(), app + "#deps" + v), logNormal(p.depsMedianBytes(), 0.8, rnd));
                }
                LayerRef code = new LayerRef(digest(p.seed(), app + "#code" + v), logNormal(p.codeMedianBytes(), 1.0, rnd));
                List<LayerRef> layers = new ArrayList<>(baseLayers);
                layers.add(deps);
                layers.add(code);
                String image = app + ":v" + (v + 1);
                out.put(image, new ImageRequest(image, layers));
            }
        }
        return new ImageCatalog(out);
    }

    private static String versioned(String name, String suffix) {
        int colon = name.lastIndexOf(':');
        int slash = name.lastIndexOf('/');
        return colon > slash ? name + "-" + suffix : name + ":" + suffix;
    }

    private static String digest(long seed, String what) {
        return Digest.sha256(("layerswarm-trace-gen/" + seed + "/" + what).getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static long logNormal(long median, double sigma, Random rnd) {
        return Math.max(1024, Math.round(median * Math.exp(sigma * rnd.nextGaussian())));
    }

    private static int geometric(double mean, Random rnd) {
        // Number of trials until success with success probability 1/mean: mean pulls per burst.
        double q = 1 - 1 / mean;
        int k = 1;
        while (rnd.nextDouble() < q && k < 10_000) {
            k++;
        }
        return k;
    }

    private static double[] zipfCdf(int n, double s) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1 / Math.pow(i + 1, s);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        return cdf;
    }

    private static int sample(double[] cdf, double u) {
        int i = Arrays.binarySearch(cdf, u);
        int idx = i >= 0 ? i : -i - 1;
        return Math.min(idx, cdf.length - 1);
    }

    private static void churn(int[] ranks, int from, double fraction, Random rnd) {
        int tail = ranks.length - from;
        int moves = (int) Math.round(tail * fraction / 2);
        for (int m = 0; m < moves; m++) {
            int i = from + rnd.nextInt(tail);
            int j = from + rnd.nextInt(tail);
            int tmp = ranks[i];
            ranks[i] = ranks[j];
            ranks[j] = tmp;
        }
    }

    private static void shuffle(int[] a, int from, Random rnd) {
        for (int i = a.length - 1; i > from; i--) {
            int j = from + rnd.nextInt(i - from + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }

    private static int[] pickDistinct(int k, int n, Random rnd) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        shuffle(all, 0, rnd);
        return Arrays.copyOf(all, k);
    }
}
