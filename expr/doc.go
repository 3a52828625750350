// Package expr holds the values QuerySets are built from, with Django's vocabulary:
//
//   - Q: lookups that must all hold, Q{"title__icontains": "go", "year__gte": 2020},
//     combined with And, Or and Not to any depth;
//   - F: a reference to a field, usable in filters, arithmetic and updates:
//     F("pages").Gt(F("chapters").Mul(10));
//   - Value: a constant, passed to the database as data, never as syntax;
//   - orderings (F("published").Desc().NullsLast()) and update maps (Set).
//
// These are plain values: building them never fails. The QuerySet that uses them resolves
// field names against the model and reports an unknown field or lookup when it runs.
//
// The expression tree is open: every node implements Node, and later features (database
// functions, aggregates, subqueries, conditional expressions) add node types; the compiler
// lowers each kind of node.
package expr
