package org.imagingpipeline.simulator;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Builds one MR Image Storage object (Part-10, explicit VR little endian, 16-bit MONOCHROME2) with the
 * attributes the MR Image IOD requires, so that dciodvfy accepts it.
 */
final class MrImage {
    static final String MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4";

    /** Series-level attributes shared by every slice. */
    record Series(String patientId, String patientName, String studyUid, String seriesUid, String frameOfReferenceUid,
                  String studyDate, String manufacturer, String model, String institution, String station, double fieldStrength,
                  String seriesDescription, String protocol, String comments) {
    }

    private MrImage() {
    }

    static byte[] build(Series s, String sopInstanceUid, int instanceNumber, double z, short[] pixels, int rows, int columns,
                        int bitsStored, double pixelSpacing, double sliceThickness) throws Exception {
        AttributeList l = new AttributeList();
        put(l, TagFromName.SpecificCharacterSet, "ISO_IR 100");
        put(l, TagFromName.ImageType, "DERIVED\\SECONDARY\\OTHER");
        put(l, TagFromName.SOPClassUID, MR_IMAGE_STORAGE);
        put(l, TagFromName.SOPInstanceUID, sopInstanceUid);
        put(l, TagFromName.StudyDate, s.studyDate());
        put(l, TagFromName.StudyTime, "120000");
        put(l, TagFromName.AccessionNumber, "");
        put(l, TagFromName.Modality, "MR");
        put(l, TagFromName.BodyPartExamined, "BRAIN");
        put(l, TagFromName.Manufacturer, s.manufacturer());
        put(l, TagFromName.InstitutionName, s.institution());
        put(l, TagFromName.ReferringPhysicianName, "");
        put(l, TagFromName.StationName, s.station());
        put(l, TagFromName.SeriesDescription, s.seriesDescription());
        put(l, TagFromName.ManufacturerModelName, s.model());
        put(l, TagFromName.PatientName, s.patientName());
        put(l, TagFromName.PatientID, s.patientId());
        put(l, TagFromName.PatientBirthDate, "");
        put(l, TagFromName.PatientSex, "");
        put(l, new AttributeTag(0x0018, 0x0020), "SE\\IR"); // ScanningSequence
        put(l, new AttributeTag(0x0018, 0x0021), "SK\\SP"); // SequenceVariant
        put(l, new AttributeTag(0x0018, 0x0022), ""); // ScanOptions
        put(l, new AttributeTag(0x0018, 0x0023), "2D"); // MRAcquisitionType
        put(l, TagFromName.SliceThickness, fmt(sliceThickness));
        put(l, new AttributeTag(0x0018, 0x0080), "9000"); // RepetitionTime
        put(l, new AttributeTag(0x0018, 0x0081), "90"); // EchoTime
        put(l, new AttributeTag(0x0018, 0x0082), "2500"); // InversionTime
        put(l, new AttributeTag(0x0018, 0x0091), "1"); // EchoTrainLength
        put(l, new AttributeTag(0x0018, 0x0087), fmt(s.fieldStrength())); // MagneticFieldStrength
        put(l, TagFromName.ProtocolName, s.protocol());
        put(l, TagFromName.PatientPosition, "HFS");
        put(l, TagFromName.StudyInstanceUID, s.studyUid());
        put(l, TagFromName.SeriesInstanceUID, s.seriesUid());
        put(l, TagFromName.StudyID, "1");
        put(l, TagFromName.SeriesNumber, "1");
        put(l, TagFromName.InstanceNumber, Integer.toString(instanceNumber));
        put(l, TagFromName.ImagePositionPatient, fmt(-columns * pixelSpacing / 2) + "\\" + fmt(-rows * pixelSpacing / 2) + "\\" + fmt(z));
        put(l, TagFromName.ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
        put(l, TagFromName.FrameOfReferenceUID, s.frameOfReferenceUid());
        put(l, TagFromName.PositionReferenceIndicator, "");
        put(l, TagFromName.ImageComments, s.comments());
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(l, TagFromName.Rows, Integer.toString(rows));
        put(l, TagFromName.Columns, Integer.toString(columns));
        put(l, TagFromName.PixelSpacing, fmt(pixelSpacing) + "\\" + fmt(pixelSpacing));
        put(l, TagFromName.BitsAllocated, "16");
        put(l, TagFromName.BitsStored, Integer.toString(bitsStored));
        put(l, TagFromName.HighBit, Integer.toString(bitsStored - 1));
        put(l, TagFromName.PixelRepresentation, "0");
        OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
        pd.setValues(pixels);
        l.put(pd);
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "IMGPIPE_SIM");
        ByteArrayOutputStream out = new ByteArrayOutputStream(pixels.length * 2 + 2048);
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    static void put(AttributeList l, AttributeTag tag, String value) throws Exception {
        Attribute a = AttributeFactory.newAttribute(tag);
        if (!value.isEmpty()) for (String v : value.split("\\\\")) a.addValue(v);
        l.put(a);
    }

    /** A UID under 2.25 from a name: the same name always gives the same UID (re-sending is idempotent). */
    static String uidFor(String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(("imaging-pipeline|" + name).getBytes(StandardCharsets.UTF_8));
            return "2.25." + new BigInteger(1, Arrays.copyOf(d, 16));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
