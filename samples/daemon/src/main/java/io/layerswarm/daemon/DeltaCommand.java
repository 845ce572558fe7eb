package io.layerswarm.daemon;

import io.layerswarm.oci.ImageReference;
import io.layerswarm.refactor.Refactorer;
import io.layerswarm.refactor.RegistryImages;
import io.layerswarm.refactor.SourceImage;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code layerswarm delta}: the delta layer from one image to another, against the full update. */
@Command(name = "delta", mixinStandardHelpOptions = true,
        description = "Size the delta layer that turns image FROM's root filesystem into image TO's.")
public final class DeltaCommand implements Callable<Integer> {
    @CommandLine.Mixin
    RefactorCommand.RegistryOptions opts = new RefactorCommand.RegistryOptions();

    @Option(names = "--from", required = true, description = "REPO:TAG the node holds")
    String from;

    @Option(names = "--to", required = true, description = "REPO:TAG the node needs")
    String to;

    @Override
    public Integer call() throws IOException {
        RegistryImages reg = opts.images();
        List<SourceImage> images = RefactorCommand.load(reg, RefactorCommand.parseRefs(List.of(from, to)));
        Map<String, Object> out = opts.inWorkDir(dir -> {
            Refactorer.Delta d = new Refactorer(dir).delta(images.get(0), images.get(1), reg);
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("from", ImageReference.parse(from).toString());
            o.put("to", ImageReference.parse(to).toString());
            o.put("updateBytes", d.updateBytes());
            o.put("duplicatedBytes", d.duplicatedBytes());
            o.put("deltaBytes", d.deltaBytes());
            o.put("deltaEntries", d.entries().size());
            o.put("deltaDigest", d.layer().digest().toString());
            return o;
        });
        if (opts.json) {
            System.out.println(RefactorCommand.JSON.writeValueAsString(out));
        } else {
            System.out.printf("updateBytes=%d duplicatedBytes=%d deltaBytes=%d%n", out.get("updateBytes"),
                    out.get("duplicatedBytes"), out.get("deltaBytes"));
        }
        return 0;
    }
}
