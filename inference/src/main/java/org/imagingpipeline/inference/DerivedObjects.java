package org.imagingpipeline.inference;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;

/** What the objects inference derives from a series (the SEG, the SR) share: the source's patient and study, references. */
final class DerivedObjects {
    /** Patient and General Study attributes copied from the first source instance: the object joins the source study. */
    private static final AttributeTag[] PATIENT_STUDY = {
            TagFromName.SpecificCharacterSet, TagFromName.PatientName, TagFromName.PatientID, TagFromName.IssuerOfPatientID,
            TagFromName.PatientBirthDate, TagFromName.PatientSex, TagFromName.StudyInstanceUID, TagFromName.StudyDate,
            TagFromName.StudyTime, TagFromName.ReferringPhysicianName, TagFromName.StudyID, TagFromName.AccessionNumber,
            TagFromName.StudyDescription};
    /** Type 2 among them: present, empty when the source lacks them. */
    private static final AttributeTag[] TYPE2 = {
            TagFromName.PatientName, TagFromName.PatientID, TagFromName.PatientBirthDate, TagFromName.PatientSex,
            TagFromName.StudyDate, TagFromName.StudyTime, TagFromName.ReferringPhysicianName, TagFromName.StudyID,
            TagFromName.AccessionNumber};

    private DerivedObjects() {
    }

    /** Copies the source's patient and study attributes into {@code l}; type 2 ones the source lacks are added empty. */
    static void copyPatientAndStudy(AttributeList source, AttributeList l) {
        for (AttributeTag t : PATIENT_STUDY) {
            Attribute a = source.get(t);
            if (a != null) l.put(a);
        }
        for (AttributeTag t : TYPE2) {
            if (l.get(t) == null) {
                try {
                    l.putNewAttribute(t);
                } catch (DicomException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** A series item: its SeriesInstanceUID and, under {@code instancesTag}, every source instance (class and UID). */
    static AttributeList sourceSeriesItem(SliceStack stack, String sourceSeriesUid, AttributeTag instancesTag) throws DicomException {
        SequenceAttribute instances = new SequenceAttribute(instancesTag);
        for (SliceStack.Source s : stack.sources()) instances.addItem(reference(s.sopClassUid(), s.sopInstanceUid()));
        AttributeList series = new AttributeList();
        set(series, TagFromName.SeriesInstanceUID, sourceSeriesUid);
        series.put(instances);
        return series;
    }

    /** An item with ReferencedSOPClassUID and ReferencedSOPInstanceUID. */
    static AttributeList reference(String sopClass, String sopInstance) throws DicomException {
        AttributeList ref = new AttributeList();
        set(ref, TagFromName.ReferencedSOPClassUID, sopClass);
        set(ref, TagFromName.ReferencedSOPInstanceUID, sopInstance);
        return ref;
    }

    static void set(AttributeList l, AttributeTag tag, String... values) throws DicomException {
        Attribute a = l.putNewAttribute(tag);
        for (String v : values) a.addValue(v);
    }

    static String clip(String s, int max) {
        return s == null ? "" : s.length() <= max ? s : s.substring(0, max);
    }
}
