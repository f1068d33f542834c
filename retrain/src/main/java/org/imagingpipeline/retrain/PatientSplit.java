package org.imagingpipeline.retrain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/** Patient-level train/validation split with a fixed seed: no patient has slices on both sides. */
public record PatientSplit(List<SliceDataset.PatientRef> train, List<SliceDataset.PatientRef> validation) {

    public static PatientSplit of(List<SliceDataset.PatientRef> patients, double valFraction, long seed) {
        if (valFraction < 0 || valFraction >= 1) {
            throw new DataException("--val-fraction must be in [0, 1), got " + valFraction);
        }
        List<SliceDataset.PatientRef> sorted = new ArrayList<>(patients);
        sorted.sort(Comparator.comparing(SliceDataset.PatientRef::site).thenComparing(SliceDataset.PatientRef::patientId));
        Collections.shuffle(sorted, new Random(seed));
        int nVal = valFraction == 0 ? 0 : (int) Math.max(1, Math.round(sorted.size() * valFraction));
        if (sorted.size() - nVal < 1) {
            throw new DataException("need at least 2 patients to split into training and validation, got " + sorted.size());
        }
        List<SliceDataset.PatientRef> val = new ArrayList<>(sorted.subList(0, nVal));
        List<SliceDataset.PatientRef> train = new ArrayList<>(sorted.subList(nVal, sorted.size()));
        Comparator<SliceDataset.PatientRef> byId = Comparator.comparing(SliceDataset.PatientRef::patientId);
        val.sort(byId);
        train.sort(byId);
        return new PatientSplit(train, val);
    }
}
