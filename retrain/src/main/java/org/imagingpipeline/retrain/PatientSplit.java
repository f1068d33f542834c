package org.imagingpipeline.retrain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Patient-level train/validation split with a fixed seed: no patient has slices on both sides. Stratified by site:
 * each site's patients (sorted by id) are shuffled with the seed and the first round(n x fraction) (at least one)
 * are held out, so a site's validation patients are the same whichever other sites a model is trained with (paired
 * comparisons between single- and multi-site models).
 */
public record PatientSplit(List<SliceDataset.PatientRef> train, List<SliceDataset.PatientRef> validation) {

    public static PatientSplit of(List<SliceDataset.PatientRef> patients, double valFraction, long seed) {
        if (valFraction < 0 || valFraction >= 1) {
            throw new DataException("--val-fraction must be in [0, 1), got " + valFraction);
        }
        java.util.Map<String, List<SliceDataset.PatientRef>> bySite = new java.util.TreeMap<>();
        for (SliceDataset.PatientRef p : patients) {
            bySite.computeIfAbsent(p.site(), s -> new ArrayList<>()).add(p);
        }
        List<SliceDataset.PatientRef> val = new ArrayList<>();
        List<SliceDataset.PatientRef> train = new ArrayList<>();
        for (List<SliceDataset.PatientRef> site : bySite.values()) {
            List<SliceDataset.PatientRef> sorted = new ArrayList<>(site);
            sorted.sort(Comparator.comparing(SliceDataset.PatientRef::patientId));
            Collections.shuffle(sorted, new Random(seed));
            int nVal = valFraction == 0 ? 0 : (int) Math.max(1, Math.round(sorted.size() * valFraction));
            if (sorted.size() - nVal < 1) {
                throw new DataException("need at least 2 patients per site to split into training and validation, got "
                        + sorted.size() + " for " + sorted.get(0).site());
            }
            val.addAll(sorted.subList(0, nVal));
            train.addAll(sorted.subList(nVal, sorted.size()));
        }
        Comparator<SliceDataset.PatientRef> byId = Comparator.comparing(SliceDataset.PatientRef::patientId);
        val.sort(byId);
        train.sort(byId);
        return new PatientSplit(train, val);
    }
}
