// Package compiler lowers a QuerySet's state to MongoDB commands: lookups and
// transforms to query operators, Q trees to $and/$or/$nor, F expressions to aggregation
// expressions, orderings to sort documents or pipeline stages, updates to $set/$unset
// documents or update pipelines.
//
// The rules it follows (docs/lookups.md has the full table):
//
//   - Query language first: a stored field compared with a constant becomes a plain
//     query operator ({pages: {$gt: 100}}) so indexes apply; $expr appears only when a
//     side is an expression (F, arithmetic) or a transform has no range form.
//     Transforms that are monotonic — year, iso_year, date, and hour of a TimeField —
//     become ranges on the stored value.
//   - Null follows Django's SQL semantics: a missing key and BSON null are both NULL;
//     comparisons never match NULL; exact=nil means isnull; a negation (Exclude, Not) is
//     a $nor of a positive form that never matches NULL, so it keeps NULL rows.
//   - Values are data, never syntax: field paths come only from model metadata;
//     documents and arrays are compared with $eq; text in pattern lookups is escaped;
//     constants inside expressions are wrapped in $literal.
//   - Output is deterministic: Q keys are taken in sorted order, so the same QuerySet
//     always compiles to the same command.
//   - The command is chosen by shape: find when a filter, sort, skip, limit and
//     projection suffice, aggregate when stages are needed (random order, null
//     placement, expression ordering, distinct rows).
//
// The compiler never talks to the network and holds no state: every function is safe
// for concurrent use.
package compiler
