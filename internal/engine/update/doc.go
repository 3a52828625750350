// Package update implements MongoDB's update operators: compiling an update document
// ({$set: {...}, $inc: {...}}) into a tree of per-path modifiers, and applying it to a
// document with copy-on-write, as mongod's update system does.
//
// The compiled tree mirrors mongod's: object nodes keyed by field name (numeric names in
// numeric order, others in byte order — the order MongoDB 5.0+ applies operators and so
// appends new fields), array nodes for "$[]" and "$[<id>]" steps, a positional child for
// "$", and one leaf per modified path. Two operators on overlapping paths are rejected at
// compile time (ConflictingUpdateOperators), which is why the leaves can be applied one
// after another in tree order without seeing each other's effects.
//
// Apply never modifies its input: every document or array on a path that changes is
// copied once, untouched subtrees are shared with the input.
//
// Besides Compile/Apply the package provides the pieces of an update command that depend
// on update semantics: IsOperatorUpdate, ValidateReplacement and UpsertSeed (the document
// an upsert starts from, built from the filter's equality conditions).
package update
