#!/usr/bin/env python3
"""Generate a large, deterministic "Bevilgninger fra EU til norske forskningsmiljøer" file.

    python3 bench/gen-forskningsradet.py --rows 10000 --out /tmp/frie-10k.csv

The file has the exact 44-column header of the Research Council of Norway's open
dataset, a UTF-8 byte order mark, ';' separators, CRLF line endings, dates as
"dd.mm.yyyy HH:MM" and amounts with '.' as decimal point. It holds --rows partner
rows over about rows/4 projects and about 600 distinct organisations. Organisation
numbers are synthetic (9 digits starting with 8 or 9) but pass the Brønnøysund
MOD11 check. Municipality numbers are real codes from Statistics Norway's KLASS 131
version "Kommuneinndeling 2022" (valid 2022-01-01..2023-01-01, so on 2022-06-01);
Oslo is written "301" (county "3") as in the published file. Every row is valid:
the file is for timing the importer, not for testing its error paths.

Same --rows/--seed/--orgs gives a byte-identical file.
"""
import argparse
import calendar
import csv
import io
import random
import sys

HEADER = (
    "Rammeprogram;Traktat kode (H2020);Programområde kode (H2020);Programområde (H2020);"
    "Program kode (H2020);Programkortnavn (H2020);Program (H2020);Programnivå 1 kortnavn (H2020);"
    "Programnivå 1 kode (H2020);Programnivå 1 (H2020);Prosjektnr;Prosjektkortnavn;Prosjektnavn;"
    "Utlysnings-id;Overordnet utlysnings-id;Topic kode;Topic;Søknadstype;Søknadstypenavn;"
    "Kontraktstatus;Kontrakt signeringsdato;Kontrakt startdato;Kontrakt sluttdato;Søknadsfrist;"
    "Søknadsdato;Varighet måneder;Vurderingspanel;Organisasjonsnummer;Organisasjonsnavn;Kortnavn;"
    "Organisasjon rolle;Organisasjon finansiell rolle;Deltakernr;FoU sektorkode;FoU sektor;"
    "FoU kategori;Kontraktspart 1;Kontraktspart 2;Adresse kommunenummer;Adresse kommune;"
    "Adresse fylkenummer;Adresse fylke;Adresse landsdel;Innvilget beløp organisasjon EUR"
).split(";")
assert len(HEADER) == 44

# KLASS 131, Kommuneinndeling 2022 (code, name); a sample of 104 of the 356 municipalities.
KOMMUNER_2022 = """
0301 Oslo
1103 Stavanger
1106 Haugesund
1108 Sandnes
1112 Lund
1124 Sola
1144 Kvitsøy
1149 Karmøy
1505 Kristiansund
1506 Molde
1507 Ålesund
1516 Ulstein
1532 Giske
1560 Tingvoll
1578 Fjord
1804 Bodø
1806 Narvik
1813 Brønnøy
1824 Vefsn
1833 Rana
1839 Beiarn
1853 Evenes - Evenášši
1866 Hadsel
1875 Hábmer - Hamarøy
3001 Halden
3002 Moss
3003 Sarpsborg
3004 Fredrikstad
3005 Drammen
3006 Kongsberg
3015 Skiptvet
3020 Nordre Follo
3021 Ås
3024 Bærum
3025 Asker
3027 Rælingen
3029 Lørenskog
3030 Lillestrøm
3033 Ullensaker
3039 Flå
3045 Sigdal
3051 Rollag
3401 Kongsvinger
3403 Hamar
3405 Lillehammer
3407 Gjøvik
3415 Sør-Odal
3421 Trysil
3427 Tynset
3433 Skjåk
3439 Ringebu
3447 Søndre Land
3453 Øystre Slidre
3801 Horten
3803 Tønsberg
3804 Sandefjord
3805 Larvik
3806 Porsgrunn
3807 Skien
3813 Bamble
3819 Hjartdal
3825 Vinje
4201 Risør
4203 Arendal
4204 Kristiansand
4205 Lindesnes
4206 Farsund
4215 Lillesand
4221 Valle
4227 Kvinesdal
4601 Bergen
4602 Kinn
4613 Bømlo
4619 Eidfjord
4625 Austevoll
4626 Øygarden
4627 Askøy
4631 Alver
4637 Hyllestad
4640 Sogndal
4643 Årdal
4649 Stad
5001 Trondheim
5006 Steinkjer
5007 Namsos - Nåavmesjenjaelmie
5014 Frøya
5027 Midtre Gauldal
5034 Meråker
5035 Stjørdal
5042 Lierne
5049 Flatanger
5057 Ørland
5401 Tromsø
5402 Harstad - Hárstták
5403 Alta
5405 Vadsø
5406 Hammerfest - Hámmerfeasta
5412 Dielddanuorri - Tjeldsund
5418 Målselv
5424 Lyngen
5430 Guovdageaidnu - Kautokeino
5437 Kárášjohka - Karasjok
5443 Båtsfjord
5444 Sør-Varanger
"""
KOMMUNER = [tuple(line.split(" ", 1)) for line in KOMMUNER_2022.strip().splitlines()]

# 2022 counties: number -> (name as the dataset writes it, landsdel)
FYLKER = {
    "03": ("Oslo", "Oslo og Viken"),
    "11": ("Rogaland", "Vestlandet"),
    "15": ("Møre og Romsdal", "Vestlandet"),
    "18": ("Nordland - Nordlánnda", "Nord-Norge"),
    "30": ("Viken", "Oslo og Viken"),
    "34": ("Innlandet", "Innlandet"),
    "38": ("Vestfold og Telemark", "Agder og Sør-Østlandet"),
    "42": ("Agder", "Agder og Sør-Østlandet"),
    "46": ("Vestland", "Vestlandet"),
    "50": ("Trøndelag - Trööndelage", "Trøndelag"),
    "54": ("Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku", "Nord-Norge"),
}
BIG = {"0301": 30, "5001": 25, "4601": 20, "5401": 10, "1103": 10, "3024": 6, "3030": 6,
       "4204": 5, "1804": 5, "3005": 4, "1507": 4, "3021": 4, "3403": 3, "3807": 3}

SECTORS = [
    ("UoH", "UoH-sektor", "Universiteter", "UNIVERSITET"),
    ("UoH", "UoH-sektor", "Statlige høyskoler", "HØGSKOLE"),
    ("INS", "Instituttsektor", "Teknisk-industrielle institutter", "FORSKNING AS"),
    ("INS", "Instituttsektor", "Primærnæringsinstitutter", "INSTITUTT"),
    ("INS", "Instituttsektor", "Øvrige forskningsinstitutter", "FORSKNINGSSENTER"),
    ("NÆR", "Næringsliv", "Næringsliv", "AS"),
    ("HEL", "Helseforetak", "Helse Vest RHF", "HF"),
    ("DIV", "Øvrige", "Øvrige offentlige", "KOMMUNE"),
]
WORDS = ["NORD", "FJORD", "HAV", "LYS", "FJELL", "VIND", "KYST", "ARKTIS", "POLAR", "SKOG", "ELV",
         "NORDLYS", "STRAUM", "BRE", "MYR", "VIDDE", "ØY", "SKJÆR", "BØLGE", "TUNDRA"]

H2020_PROGRAMMES = [
    ["H2020", "", "EU.1.", "Excellent Science", "EU.1.1.", "ERC", "European Research Council", "", "", ""],
    ["H2020", "", "EU.1.", "Excellent Science", "EU.1.3.", "MSCA", "Marie Sklodowska-Curie actions", "", "", ""],
    ["H2020", "", "EU.2.", "Industrial Leadership", "EU.2.1.", "LEIT",
     "Leadership in enabling and industrial technologies (LEIT)", "LEIT-ICT", "EU.2.1.1.",
     "Information and Communication Technologies"],
    ["H2020", "", "EU.3.", "Societal Challenges", "EU.3.3.", "ENERGY", "Secure, clean and efficient energy", "", "", ""],
    ["H2020", "", "EU.3.", "Societal Challenges", "EU.3.2.", "FOOD",
     "Food security, sustainable agriculture and forestry, marine and maritime and inland water research", "", "", ""],
    ["H2020", "EURATOM", "", "", "", "", "", "", "", ""],
]
H2020_TYPES = [("RIA", "Research and Innovation action"), ("IA", "Innovation action"),
               ("CSA", "Coordination and support action"), ("ERC-STG", "Starting Grant")]
HE_TYPES = [("HORIZON-RIA", "HORIZON Research and Innovation Actions"),
            ("HORIZON-IA", "HORIZON Innovation Actions"),
            ("HORIZON-CSA", "HORIZON Coordination and Support Actions"),
            ("HORIZON-TMA-MSCA-DN", "HORIZON TMA MSCA Doctoral Networks")]


def mod11_check(first8):
    total = sum(int(d) * w for d, w in zip(first8, (3, 2, 7, 6, 5, 4, 3, 2)))
    c = 11 - total % 11
    return 0 if c == 11 else c  # 10 means "no valid number with these digits"


def org_number(rng, used):
    while True:
        first8 = rng.choice("89") + "".join(rng.choice("0123456789") for _ in range(7))
        c = mod11_check(first8)
        if c == 10:
            continue
        nr = first8 + str(c)
        if nr not in used:
            used.add(nr)
            return nr


def fmt_date(y, m, d, hh=0, mm=0):
    return f"{d:02d}.{m:02d}.{y:04d} {hh:02d}:{mm:02d}"


def add_months(y, m, n):
    m0 = m - 1 + n
    return y + m0 // 12, m0 % 12 + 1


def last_day(y, m):
    return calendar.monthrange(y, m)[1]


def amount(rng):
    base = rng.randrange(20_000, 3_000_000)
    style = rng.random()
    if style < 0.45:
        return str(base)
    if style < 0.75:
        return f"{base}.{rng.choice(['5', '25', '75', '96', '12'])}"
    # float residue as the published file has it, e.g. 626199.99999984
    return f"{base - 1}.{rng.choice(['99999984', '9999997', '99999968', '999999960'])}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True, help="number of partner rows")
    ap.add_argument("--out", required=True, help="output file ('-' for stdout)")
    ap.add_argument("--orgs", type=int, default=600, help="organisations in the pool (default 600)")
    ap.add_argument("--seed", type=int, default=20240101)
    a = ap.parse_args()
    if a.rows < 1 or a.orgs < 2:
        ap.error("--rows must be >= 1 and --orgs >= 2")
    rng = random.Random(a.seed)

    # organisations
    used = set()
    orgs = []
    kweights = [BIG.get(code, 1) for code, _ in KOMMUNER]
    for i in range(a.orgs):
        sek = rng.choices(SECTORS, weights=[6, 3, 5, 2, 3, 10, 1, 2])[0]
        code, kname = rng.choices(KOMMUNER, weights=kweights)[0]
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)} {sek[3]}"
        if rng.random() < 0.3:
            name = f"{kname.split(' - ')[0].upper()} {name}"
        name = f"{name} {i:03d}" if rng.random() < 0.5 else name
        fy = code[:2]
        orgs.append({
            "nr": org_number(rng, used), "name": name,
            "short": rng.choice(["", "ukjent", name.split()[0][:8]]),
            "sek": sek[:3], "kp": (str(rng.choice([101, 102, 104, 601, 625, 706, 707])), str(rng.randrange(0, 40))),
            "kommune": ("301" if code == "0301" else code, kname, "3" if fy == "03" else fy, *FYLKER[fy]),
        })
    oweights = [1.0 / (k + 1) ** 0.8 for k in range(len(orgs))]  # a few very active organisations

    # projects and their sizes
    n_projects = max(1, round(a.rows / 4))  # never more than rows
    sizes = [1] * n_projects
    for p in rng.choices(range(n_projects), k=a.rows - n_projects):
        sizes[p] += 1

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(HEADER)
    seen_ids = set()
    org_seen = set()
    for p, size in enumerate(sizes):
        horizon_europe = rng.random() < 0.4
        while True:
            if horizon_europe or rng.random() < 0.1:
                pid = str(101000000 + rng.randrange(0, 200000))
            else:
                pid = str(rng.randrange(633000, 1000000))
            if pid not in seen_ids:
                seen_ids.add(pid)
                break
        start_y = rng.randrange(2022, 2025) if horizon_europe else rng.randrange(2014, 2022)
        start_m = rng.randrange(1, 13)
        months = rng.choice([24, 30, 36, 42, 48, 60])
        end_y, end_m = add_months(start_y, start_m, months - 1)
        sign_y, sign_m = add_months(start_y, start_m, -rng.randrange(1, 4))
        dl_y, dl_m = add_months(sign_y, sign_m, -rng.randrange(6, 11))
        dl_d = rng.randrange(1, 29)
        acronym = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{p % 97}"
        title = f"{rng.choice(WORDS).capitalize()} and {rng.choice(WORDS).lower()} research for the north"
        r = rng.random()
        if r < 0.01:
            title += '; "quoted" part'
        elif r < 0.02:
            title = f"{title}, phase {p % 3 + 1}"
        if horizon_europe:
            prog = ["Horisont Europa"] + [""] * 9
            typ = rng.choice(HE_TYPES)
            call = f"HORIZON-CL{rng.randrange(1, 7)}-{start_y - 1}-{rng.choice(['D1', 'D3', 'BIODIV', 'CARE'])}-01"
            topic_code = f"{call}-{rng.randrange(1, 20):02d}"
            parent = call
        else:
            prog = rng.choice(H2020_PROGRAMMES)
            typ = H2020_TYPES[3] if prog[5] == "ERC" else rng.choice(H2020_TYPES[:3])
            call = f"H2020-{rng.choice(['LC-SC3', 'SFS', 'ICT', 'MSCA-IF', 'NFRP'])}-{start_y - 1}"
            parent = call.rsplit("-", 1)[0] + f"-{start_y - 2}-{start_y}"
            topic_code = f"{call.split('-')[1]}-{rng.randrange(1, 40):02d}-{start_y - 1}"
        proj = prog + [
            pid, acronym, title, call, parent, topic_code, f"Topic {topic_code}", typ[0], typ[1],
            rng.choice(["SIGNED", "SIGNED", "SIGNED", "CLOSED", "TERMINATED"]),
            fmt_date(sign_y, sign_m, rng.randrange(1, 29)),
            fmt_date(start_y, start_m, 1),
            fmt_date(end_y, end_m, last_day(end_y, end_m)),
            fmt_date(dl_y, dl_m, dl_d, 17, 0),
            fmt_date(dl_y, dl_m, max(1, dl_d - rng.randrange(0, 2))),
            str(months), rng.choice(["", "", "Energy", "Information and Communication Technology (ICT)", "Health"]),
        ]
        members = []
        taken = set()
        while len(members) < min(size, len(orgs)):
            k = rng.choices(range(len(orgs)), weights=oweights)[0]
            if k not in taken:
                taken.add(k)
                members.append(k)
        has_coordinator = rng.random() < 0.35
        for j, k in enumerate(members):
            o = orgs[k]
            org_seen.add(k)
            if j == 0 and has_coordinator:
                role, deltaker = "COORDINATOR", 1
            elif rng.random() < 0.03:
                role, deltaker = "THIRD PARTY", rng.randrange(2, 30)
            else:
                role, deltaker = "PARTICIPANT", rng.randrange(2, 40)
            fin = "" if role == "THIRD PARTY" else "BENEFICIARY"
            amt = "" if role == "THIRD PARTY" or rng.random() < 0.01 else amount(rng)
            w.writerow(proj + [o["nr"], o["name"], o["short"], role, fin, str(deltaker), *o["sek"], *o["kp"],
                               *o["kommune"], amt])

    data = buf.getvalue()
    if a.out == "-":
        sys.stdout.write(data)
    else:
        with open(a.out, "w", encoding="utf-8-sig", newline="") as f:
            f.write(data)
    print(f"wrote {a.rows} rows, {len(sizes)} projects, {len(org_seen)} organisations to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
