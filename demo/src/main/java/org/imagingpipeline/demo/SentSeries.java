package org.imagingpipeline.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The series the demo sent, from {@code series.tsv} written by {@code send --export} (one line per series). */
record SentSeries(String seriesUid, String studyUid, String site, String patient, String profile, int slices, String folder) {

    /** The site folder under the export root that holds the series (e.g. DU or DU-NEWSCANNER). */
    String siteFolder() {
        int slash = folder.indexOf('/');
        return slash < 0 ? folder : folder.substring(0, slash);
    }

    boolean simulated() {
        return !profile.isEmpty();
    }

    static List<SentSeries> read(Path exportRoot) throws IOException {
        Path index = exportRoot.resolve("series.tsv");
        List<SentSeries> out = new ArrayList<>();
        if (!Files.isRegularFile(index)) return out;
        for (String line : Files.readAllLines(index)) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t", -1);
            if (f.length < 7) throw new IOException("bad line in " + index + ": " + line);
            out.add(new SentSeries(f[0], f[1], f[2], f[3], f[4], Integer.parseInt(f[5]), f[6]));
        }
        return out;
    }
}
