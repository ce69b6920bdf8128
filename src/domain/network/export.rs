//! The network in the formats researchers' tools read: GraphML (NetworkX, Gephi, yEd), GEXF 1.2
//! (Gephi, NetworkX), CSV node and edge lists, and Cytoscape.js JSON. Node ids are the node keys
//! (slugs), so a node is the same node in every format and in the API.

use std::fmt::Write;

use quick_xml::escape::escape;
use serde_json::{Value, json};

use super::Network;

/// The formats, with their media types and file extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GraphMl,
    Gexf,
    CsvNodes,
    CsvEdges,
    CytoscapeJson,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphMl => "application/graphml+xml; charset=utf-8",
            Self::Gexf => "application/gexf+xml; charset=utf-8",
            Self::CsvNodes | Self::CsvEdges => "text/csv; charset=utf-8",
            Self::CytoscapeJson => "application/json",
        }
    }

    /// The file name a download is saved as.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::GraphMl => "network.graphml",
            Self::Gexf => "network.gexf",
            Self::CsvNodes => "network.nodes.csv",
            Self::CsvEdges => "network.edges.csv",
            Self::CytoscapeJson => "network.cyjs.json",
        }
    }

    /// The format of a download path's file name (`network.graphml`, …).
    pub fn from_file_name(name: &str) -> Option<Self> {
        [Self::GraphMl, Self::Gexf, Self::CsvNodes, Self::CsvEdges, Self::CytoscapeJson]
            .into_iter()
            .find(|format| format.file_name() == name || (name == "network.json" && *format == Self::CytoscapeJson))
    }
}

/// Per-node scores to carry along (e.g. betweenness for drawing), by name.
pub type Scores<'a> = &'a [(&'a str, &'a [f64])];

/// The network as `format`, with `scores` as extra node attributes.
pub fn write(network: &Network, format: Format, scores: Scores<'_>) -> String {
    match format {
        Format::GraphMl => graphml(network, scores),
        Format::Gexf => gexf(network, scores),
        Format::CsvNodes => nodes_csv(network, scores),
        Format::CsvEdges => edges_csv(network),
        Format::CytoscapeJson => cytoscape(network, scores).to_string(),
    }
}

fn optional(value: Option<&String>) -> &str {
    value.map_or("", String::as_str)
}

/// GraphML: undirected, node attributes label/kind/country/region/organisations (plus
/// `scores`), edge attributes weight/partnerships/collaborations/placements/crossBorder.
pub fn graphml(network: &Network, scores: Scores<'_>) -> String {
    let mut out = String::with_capacity(256 + network.len() * 200 + network.edges.len() * 160);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n\
         <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n\
         <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n\
         <key id=\"country\" for=\"node\" attr.name=\"country\" attr.type=\"string\"/>\n\
         <key id=\"region\" for=\"node\" attr.name=\"region\" attr.type=\"string\"/>\n\
         <key id=\"organisations\" for=\"node\" attr.name=\"organisations\" attr.type=\"int\"/>\n",
    );
    for (name, _) in scores {
        let _ = writeln!(out, "<key id=\"{0}\" for=\"node\" attr.name=\"{0}\" attr.type=\"double\"/>", escape(*name));
    }
    out.push_str(
        "<key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n\
         <key id=\"partnerships\" for=\"edge\" attr.name=\"partnerships\" attr.type=\"int\"/>\n\
         <key id=\"collaborations\" for=\"edge\" attr.name=\"collaborations\" attr.type=\"int\"/>\n\
         <key id=\"placements\" for=\"edge\" attr.name=\"placements\" attr.type=\"int\"/>\n\
         <key id=\"crossBorder\" for=\"edge\" attr.name=\"crossBorder\" attr.type=\"boolean\"/>\n\
         <graph id=\"samverka\" edgedefault=\"undirected\">\n",
    );
    for (i, node) in network.nodes.iter().enumerate() {
        let _ = write!(
            out,
            "<node id=\"{}\"><data key=\"label\">{}</data><data key=\"kind\">{}</data>",
            escape(&node.key),
            escape(&node.label),
            escape(&node.kind)
        );
        if let Some(country) = &node.country {
            let _ = write!(out, "<data key=\"country\">{}</data>", escape(country));
        }
        if let Some(region) = &node.region {
            let _ = write!(out, "<data key=\"region\">{}</data>", escape(region));
        }
        let _ = write!(out, "<data key=\"organisations\">{}</data>", node.organisations);
        for (name, values) in scores {
            let _ = write!(out, "<data key=\"{}\">{}</data>", escape(*name), values[i]);
        }
        out.push_str("</node>\n");
    }
    for edge in &network.edges {
        let _ = writeln!(
            out,
            "<edge source=\"{}\" target=\"{}\"><data key=\"weight\">{}</data><data key=\"partnerships\">{}</data>\
             <data key=\"collaborations\">{}</data><data key=\"placements\">{}</data><data key=\"crossBorder\">{}</data></edge>",
            escape(&network.nodes[edge.source].key),
            escape(&network.nodes[edge.target].key),
            edge.weight(),
            edge.partnerships,
            edge.collaborations,
            edge.placements,
            network.crosses_border(edge)
        );
    }
    out.push_str("</graph>\n</graphml>\n");
    out
}

/// GEXF 1.2: the same attributes as GraphML, the label as the node label.
pub fn gexf(network: &Network, scores: Scores<'_>) -> String {
    let mut out = String::with_capacity(256 + network.len() * 240 + network.edges.len() * 200);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <gexf xmlns=\"http://www.gexf.net/1.2draft\" version=\"1.2\">\n\
         <meta><creator>Samverka</creator><description>partner network</description></meta>\n\
         <graph defaultedgetype=\"undirected\" mode=\"static\">\n\
         <attributes class=\"node\">\n\
         <attribute id=\"kind\" title=\"kind\" type=\"string\"/>\n\
         <attribute id=\"country\" title=\"country\" type=\"string\"/>\n\
         <attribute id=\"region\" title=\"region\" type=\"string\"/>\n\
         <attribute id=\"organisations\" title=\"organisations\" type=\"integer\"/>\n",
    );
    for (name, _) in scores {
        let _ = writeln!(out, "<attribute id=\"{0}\" title=\"{0}\" type=\"double\"/>", escape(*name));
    }
    out.push_str(
        "</attributes>\n<attributes class=\"edge\">\n\
         <attribute id=\"partnerships\" title=\"partnerships\" type=\"integer\"/>\n\
         <attribute id=\"collaborations\" title=\"collaborations\" type=\"integer\"/>\n\
         <attribute id=\"placements\" title=\"placements\" type=\"integer\"/>\n\
         <attribute id=\"crossBorder\" title=\"crossBorder\" type=\"boolean\"/>\n\
         </attributes>\n<nodes>\n",
    );
    for (i, node) in network.nodes.iter().enumerate() {
        let _ = write!(
            out,
            "<node id=\"{}\" label=\"{}\"><attvalues><attvalue for=\"kind\" value=\"{}\"/>",
            escape(&node.key),
            escape(&node.label),
            escape(&node.kind)
        );
        if let Some(country) = &node.country {
            let _ = write!(out, "<attvalue for=\"country\" value=\"{}\"/>", escape(country));
        }
        if let Some(region) = &node.region {
            let _ = write!(out, "<attvalue for=\"region\" value=\"{}\"/>", escape(region));
        }
        let _ = write!(out, "<attvalue for=\"organisations\" value=\"{}\"/>", node.organisations);
        for (name, values) in scores {
            let _ = write!(out, "<attvalue for=\"{}\" value=\"{}\"/>", escape(*name), values[i]);
        }
        out.push_str("</attvalues></node>\n");
    }
    out.push_str("</nodes>\n<edges>\n");
    for (i, edge) in network.edges.iter().enumerate() {
        let _ = writeln!(
            out,
            "<edge id=\"{i}\" source=\"{}\" target=\"{}\" weight=\"{}\"><attvalues>\
             <attvalue for=\"partnerships\" value=\"{}\"/><attvalue for=\"collaborations\" value=\"{}\"/>\
             <attvalue for=\"placements\" value=\"{}\"/><attvalue for=\"crossBorder\" value=\"{}\"/></attvalues></edge>",
            escape(&network.nodes[edge.source].key),
            escape(&network.nodes[edge.target].key),
            edge.weight(),
            edge.partnerships,
            edge.collaborations,
            edge.placements,
            network.crosses_border(edge)
        );
    }
    out.push_str("</edges>\n</graph>\n</gexf>\n");
    out
}

fn csv_text(rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail; a failure would only lose rows, never panic.
    if let Err(error) = rows(&mut writer) {
        tracing::error!(%error, "could not write CSV");
    }
    writer.into_inner().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}

/// `id,label,kind,country,region,organisations[,scores…]`, one row per node.
pub fn nodes_csv(network: &Network, scores: Scores<'_>) -> String {
    csv_text(|writer| {
        let mut header = vec!["id", "label", "kind", "country", "region", "organisations"];
        header.extend(scores.iter().map(|(name, _)| *name));
        writer.write_record(&header)?;
        for (i, node) in network.nodes.iter().enumerate() {
            let mut record = vec![
                node.key.clone(),
                node.label.clone(),
                node.kind.clone(),
                optional(node.country.as_ref()).to_owned(),
                optional(node.region.as_ref()).to_owned(),
                node.organisations.to_string(),
            ];
            record.extend(scores.iter().map(|(_, values)| values[i].to_string()));
            writer.write_record(&record)?;
        }
        Ok(())
    })
}

/// `source,target,weight,partnerships,collaborations,placements,cross_border`.
pub fn edges_csv(network: &Network) -> String {
    csv_text(|writer| {
        writer.write_record([
            "source",
            "target",
            "weight",
            "partnerships",
            "collaborations",
            "placements",
            "cross_border",
        ])?;
        for edge in &network.edges {
            writer.write_record([
                network.nodes[edge.source].key.as_str(),
                network.nodes[edge.target].key.as_str(),
                &edge.weight().to_string(),
                &edge.partnerships.to_string(),
                &edge.collaborations.to_string(),
                &edge.placements.to_string(),
                &network.crosses_border(edge).to_string(),
            ])?;
        }
        Ok(())
    })
}

/// Cytoscape.js elements JSON (`{"elements": {"nodes": […], "edges": […]}}`).
pub fn cytoscape(network: &Network, scores: Scores<'_>) -> Value {
    let nodes: Vec<Value> = network
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let mut data = json!({
                "id": node.key, "label": node.label, "kind": node.kind, "country": node.country,
                "region": node.region, "organisations": node.organisations,
            });
            for (name, values) in scores {
                data[*name] = json!(values[i]);
            }
            json!({ "data": data })
        })
        .collect();
    let edges: Vec<Value> = network
        .edges
        .iter()
        .enumerate()
        .map(|(i, edge)| {
            json!({ "data": {
                "id": format!("e{i}"), "source": network.nodes[edge.source].key, "target": network.nodes[edge.target].key,
                "weight": edge.weight(), "partnerships": edge.partnerships, "collaborations": edge.collaborations,
                "placements": edge.placements, "crossBorder": network.crosses_border(edge),
            }})
        })
        .collect();
    json!({ "elements": { "nodes": nodes, "edges": edges } })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::two_triangles;
    use super::*;

    #[test]
    fn every_format_names_every_node_and_edge() {
        let mut network = two_triangles();
        network.nodes[0].label = "Nord <&> \"Universitet\"".into();
        let scores = [0.5; 7];
        let graphml = graphml(&network, &[("betweenness", &scores)]);
        assert!(graphml.contains("Nord &lt;&amp;&gt; &quot;Universitet&quot;"), "escaped");
        assert_eq!(graphml.matches("<node ").count(), 7);
        assert_eq!(graphml.matches("<edge ").count(), 7);
        assert!(graphml.contains("<data key=\"crossBorder\">true</data>"));
        assert_eq!(gexf(&network, &[]).matches("<edge ").count(), 7);
        assert_eq!(nodes_csv(&network, &[]).lines().count(), 8);
        assert!(edges_csv(&network).lines().nth(4).is_some_and(|line| line.starts_with("c,d,3,3,0,0,true")));
        let cy = cytoscape(&network, &[("betweenness", &scores)]);
        assert_eq!(cy["elements"]["nodes"].as_array().map(Vec::len), Some(7));
        assert_eq!(cy["elements"]["nodes"][0]["data"]["betweenness"], 0.5);
        assert_eq!(Format::from_file_name("network.graphml"), Some(Format::GraphMl));
        assert_eq!(Format::from_file_name("network.json"), Some(Format::CytoscapeJson));
    }
}
