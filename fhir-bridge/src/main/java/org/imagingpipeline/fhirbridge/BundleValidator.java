package org.imagingpipeline.fhirbridge;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.util.List;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * FHIR R4 validation, fully offline: the core structure definitions and value sets shipped in
 * hapi-fhir-validation-resources-r4, UCUM and other common code systems in memory; code systems not available
 * offline (LOINC, SNOMED CT, DICOM DCM) give a warning, never an error. Building the chain is expensive (seconds):
 * make one and share it; {@link #validate} is thread-safe.
 */
public final class BundleValidator {
    private final FhirContext ctx;
    private final FhirValidator validator;

    public BundleValidator(FhirContext ctx) {
        this.ctx = ctx;
        UnknownCodeSystemWarningValidationSupport unknown = new UnknownCodeSystemWarningValidationSupport(ctx);
        unknown.setNonExistentCodeSystemSeverity(org.hl7.fhir.common.hapi.validation.support
                .UnknownCodeSystemWarningValidationSupport.DEFAULT_SEVERITY);
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(ctx),
                new CommonCodeSystemsTerminologyService(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx),
                unknown);
        FhirInstanceValidator module = new FhirInstanceValidator(chain);
        module.setAnyExtensionsAllowed(true);
        this.validator = ctx.newValidator().registerValidatorModule(module);
    }

    /** Result of validating one resource. */
    public record Outcome(ValidationResult result) {
        public List<SingleValidationMessage> errors() {
            return result.getMessages().stream()
                    .filter(m -> m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL)
                    .toList();
        }

        public boolean hasErrors() {
            return !errors().isEmpty();
        }

        public OperationOutcome operationOutcome() {
            return (OperationOutcome) result.toOperationOutcome();
        }
    }

    public Outcome validate(IBaseResource resource) {
        return new Outcome(validator.validateWithResult(resource));
    }

    public FhirContext context() {
        return ctx;
    }
}
