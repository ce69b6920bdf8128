//! Closed vocabularies of the model, stored as TEXT so the same migrations run on SQLite and
//! PostgreSQL (no native PostgreSQL enums to migrate when a value is added).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a closed string enum stored as TEXT, with `as_str`/`parse` for importers and a list
/// of all values for error messages.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(#[sea_orm(string_value = $value)] $variant,)+
        }

        impl $name {
            /// The stored (and exported) text of this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value,)+ }
            }

            /// Parses the stored text; `None` for a value outside the closed set.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($value => Some(Self::$variant),)+ _ => None }
            }

            /// Every stored text of this enum, for error messages.
            pub const ALL: &'static [&'static str] = &[$($value),+];
        }
    };
}

text_enum!(
    /// What a region is: administrative (fylke, län), statistical (NUTS) or a named area.
    RegionKind {
        Fylke = "fylke",
        Lan = "lan",
        Nuts0 = "nuts0",
        Nuts1 = "nuts1",
        Nuts2 = "nuts2",
        Nuts3 = "nuts3",
        SubRegion = "sub_region",
        InformalArea = "informal_area",
        Landskap = "landskap",
    }
);

text_enum!(
    /// Whether a region or municipality still exists.
    LifecycleStatus {
        Active = "active",
        Dissolved = "dissolved",
    }
);

text_enum!(
    /// Official code systems for regions and municipalities.
    CodeScheme {
        Kommunenummer = "kommunenummer",
        Kommunkod = "kommunkod",
        Fylkesnummer = "fylkesnummer",
        Lanskod = "lanskod",
        Nuts0 = "nuts0",
        Nuts1 = "nuts1",
        Nuts2 = "nuts2",
        Nuts3 = "nuts3",
        Iso3166_2 = "iso3166_2",
    }
);

text_enum!(
    /// Kinds of actors. Municipalities acting as partners are organisations of kind `municipality`.
    OrganisationKind {
        University = "university",
        UniversityCollege = "university_college",
        ResearchInstitute = "research_institute",
        ScienceCentre = "science_centre",
        KnowledgePark = "knowledge_park",
        BusinessGarden = "business_garden",
        StudyCentre = "study_centre",
        LearningCentre = "learning_centre",
        CompetenceCentre = "competence_centre",
        Campus = "campus",
        UpperSecondarySchool = "upper_secondary_school",
        Company = "company",
        BusinessDevelopmentCompany = "business_development_company",
        BusinessAssociation = "business_association",
        MunicipalAssociation = "municipal_association",
        RegionalCouncil = "regional_council",
        RegionalAuthority = "regional_authority",
        CountyAuthority = "county_authority",
        Ministry = "ministry",
        EuFund = "eu_fund",
        EuProgrammeBody = "eu_programme_body",
        Municipality = "municipality",
        Unknown = "unknown",
    }
);

text_enum!(
    /// What a student does at the host organisation.
    PlacementKind {
        Internship = "internship",
        Thesis = "thesis",
        Vfu = "vfu",
        DemolaCase = "demola_case",
        Course = "course",
    }
);

text_enum!(
    /// A line of a project budget.
    BudgetKind {
        Total = "total",
        Eu = "eu",
        National = "national",
        Other = "other",
    }
);

text_enum!(
    /// How an organisation stands to another, undated: `organisation` is part of `related`
    /// (parent), related to it, or succeeded by it.
    OrganisationLinkKind {
        PartOf = "part_of",
        Related = "related",
        SucceededBy = "succeeded_by",
    }
);

text_enum!(
    /// A partner's role in a project.
    PartnerRole {
        Lead = "lead",
        Owner = "owner",
        Partner = "partner",
        Funder = "funder",
    }
);

text_enum!(
    /// An explicit tie between two organisations.
    CollaborationKind {
        Agreement = "agreement",
        Network = "network",
        CourseDelivery = "course_delivery",
        StudentWork = "student_work",
    }
);

text_enum!(
    /// The level of a project goal (hovedmål, resultatmål, effektmål, prosjektmål, formål, målbild…).
    GoalKind {
        Main = "main",
        Result = "result",
        Effect = "effect",
        Project = "project",
        Purpose = "purpose",
        Vision = "vision",
        Method = "method",
        Other = "other",
    }
);

text_enum!(
    /// How a target or measured value relates to the number given.
    Comparator {
        Eq = "=",
        Gte = ">=",
        Gt = ">",
        Lte = "<=",
        Lt = "<",
    }
);

text_enum!(
    /// What a reform did to a municipality, county or organisation (one row per predecessor and
    /// successor pair): `merger` (several became one; the successor may continue one of them),
    /// `split` (one became several; the predecessor may continue as one), `transfer` (part of the
    /// predecessor's area went to the successor; the predecessor continues), `recode` (same
    /// unit, new code), `county_change` (same unit, new code because its county merged, split or
    /// it moved), `name_change` (same unit, or a renamed organisation, new name).
    ChangeKind {
        Merger = "merger",
        Split = "split",
        Transfer = "transfer",
        Recode = "recode",
        CountyChange = "county_change",
        NameChange = "name_change",
    }
);
