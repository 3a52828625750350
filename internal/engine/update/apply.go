package update

import (
	"slices"
	"strconv"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxPadding is how many nulls an update may add to reach an array index, as in mongod.
const maxPadding = 1500000

// applier is the state of one Apply call.
type applier struct {
	u       *Update
	ctx     *Context
	root    bson.D // the document as given: $rename reads its sources here
	matched string // the array index the query matched, for "$"; "" when none
	changed bool
	path    []string // path of the node being applied
	vals    []any    // value at each level of path (value.Missing where absent)
	buf     bson.D   // one-field document for evaluating array filters

	pathBuf [8]string // initial storage of path and vals
	valsBuf [8]any
}

// defaultContext is the Context of an Apply given none; it is only read.
var defaultContext = Context{Positional: -1}

// missInfo describes a path that does not exist: the deepest value that does (the document
// or array a new field would be created in, or the scalar that makes the path impossible)
// and how many components of the path exist. It keeps the value unboxed so that recording
// it costs no allocation.
type missInfo struct {
	doc    bson.D
	arr    bson.A
	scalar any
	kind   holderKind
	taken  int
}

// parent returns the deepest existing value, for messages.
func (m missInfo) parent() any {
	switch m.kind {
	case holdsDoc:
		return m.doc
	case holdsArray:
		return m.arr
	}
	return m.scalar
}

// holderKind says what a holder holds.
type holderKind uint8

const (
	holdsMissing holderKind = iota
	holdsScalar
	holdsDoc
	holdsArray
)

// holder is the value an object node is being applied to, kept unboxed while its
// children write into it. copied is set once the value is this update's own copy (or a
// document it created), which may be written in place.
type holder struct {
	doc    bson.D
	arr    bson.A
	scalar any
	kind   holderKind
	copied bool
}

func newHolder(v any) holder {
	switch x := v.(type) {
	case bson.D:
		return holder{doc: x, kind: holdsDoc}
	case bson.A:
		return holder{arr: x, kind: holdsArray}
	}
	if value.IsMissing(v) {
		return holder{kind: holdsMissing}
	}
	return holder{scalar: v, kind: holdsScalar}
}

// lookup returns the field name of a document, or the element at index name of an array,
// and its position.
func (h *holder) lookup(name string) (any, int, bool) {
	switch h.kind {
	case holdsDoc:
		for i := range h.doc {
			if h.doc[i].Key == name {
				return h.doc[i].Value, i, true
			}
		}
	case holdsArray:
		if i, ok := arrayIndex(name); ok && i < len(h.arr) {
			return h.arr[i], i, true
		}
	}
	return nil, -1, false
}

func (h *holder) miss(taken int) missInfo {
	return missInfo{doc: h.doc, arr: h.arr, scalar: h.scalar, kind: h.kind, taken: taken}
}

// Apply returns the updated document and whether it differs from doc. It never modifies doc (which other
// readers may share): copy only what changes (copy-on-write on the paths touched; unchanged subtrees may be shared).
//
// "Differs" follows mongod's notion of a modified document (which drives nModified): an
// operator that leaves its field as it was is a no-op, except $currentDate and a $push with
// $sort, which always count as modifications. When c.Inserting is set the result also has
// its _id moved first and checked, as mongod does for an upsert's new document.
func (u *Update) Apply(doc bson.D, c *Context) (bson.D, bool, error) {
	if c == nil {
		c = &defaultContext
	}
	a := applier{u: u, ctx: c, root: doc}
	a.path, a.vals = a.pathBuf[:0], a.valsBuf[:0]
	if c.Positional >= 0 {
		a.matched = strconv.Itoa(c.Positional)
	}
	out, kind, err := a.applyObject(u.root, doc, missInfo{})
	if err != nil {
		return nil, false, err
	}
	res := doc
	if a.changed && kind == replaced {
		res = out.(bson.D)
	}
	if c.Inserting {
		// A new document is checked even when the update left the seed as it was.
		if res, err = finishInsert(res); err != nil {
			return nil, false, err
		}
	}
	return res, a.changed, nil
}

func (a *applier) push(name string, v any) {
	a.path = append(a.path, name)
	a.vals = append(a.vals, v)
}

func (a *applier) pop() {
	a.path = a.path[:len(a.path)-1]
	a.vals = a.vals[:len(a.vals)-1]
}

func (a *applier) pathString() string { return strings.Join(a.path, ".") }

func (a *applier) field() string { return a.path[len(a.path)-1] }

// idString renders the document's _id for error messages.
func (a *applier) idString() string {
	if id, ok := value.Lookup(a.root, "_id"); ok {
		return value.FormatElem("_id", id)
	}
	return "no id"
}

func (a *applier) applyNode(n node, v any, miss missInfo) (any, resultKind, error) {
	switch x := n.(type) {
	case *objectNode:
		return a.applyObject(x, v, miss)
	case *arrayNode:
		return a.applyArray(x, v)
	case *leafNode:
		return a.applyLeaf(x, v, miss)
	}
	return nil, unchanged, nil
}

// applyObject applies the children of n, in order, to the fields of v (or to the elements
// of v when it is an array and the names are indexes). v may be value.Missing, in which
// case the first child that creates something creates v as a document.
func (a *applier) applyObject(n *objectNode, v any, m missInfo) (any, resultKind, error) {
	if n.positional != nil && a.matched == "" {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue, "The positional operator did not find the match needed from the query.")
	}
	h := newHolder(v)
	positional := n.positional != nil
	for _, c := range n.children {
		if positional {
			if c.name == a.matched {
				// "a.$.b" and "a.1.c" with the query matching index 1 address the same element.
				merged, err := mergeNodes(n.positional, c.node, a.joinPath(c.name))
				if err != nil {
					return nil, unchanged, err
				}
				if err := a.applyChild(merged, c.name, &h, m); err != nil {
					return nil, unchanged, err
				}
				positional = false
				continue
			}
			// mongod applies "$" when the matched index sorts (as a string) before a child.
			if a.matched < c.name {
				if err := a.applyChild(n.positional, a.matched, &h, m); err != nil {
					return nil, unchanged, err
				}
				positional = false
			}
		}
		if err := a.applyChild(c.node, c.name, &h, m); err != nil {
			return nil, unchanged, err
		}
	}
	if positional {
		if err := a.applyChild(n.positional, a.matched, &h, m); err != nil {
			return nil, unchanged, err
		}
	}
	switch {
	case !h.copied:
		return nil, unchanged, nil
	case h.kind == holdsArray:
		return h.arr, replaced, nil
	}
	return h.doc, replaced, nil
}

func (a *applier) joinPath(name string) string {
	if len(a.path) == 0 {
		return name
	}
	return a.pathString() + "." + name
}

// applyChild applies n to the child name of h and writes the result into h.
func (a *applier) applyChild(n node, name string, h *holder, miss missInfo) error {
	child, at, found := h.lookup(name)
	childMiss := miss
	if !found {
		child = value.Missing
		if h.kind != holdsMissing {
			childMiss = h.miss(len(a.path))
		}
	}
	a.push(name, child)
	out, kind, err := a.applyNode(n, child, childMiss)
	a.pop()
	if err != nil || kind == unchanged {
		return err
	}
	return h.write(name, at, out, kind)
}

// write stores a child's result, copying the holder's value the first time. at is the
// child's position in a document, -1 when it is new.
func (h *holder) write(name string, at int, out any, kind resultKind) error {
	switch h.kind {
	case holdsDoc:
		if !h.copied {
			h.doc = append(make(bson.D, 0, len(h.doc)+1), h.doc...)
			h.copied = true
		}
		switch {
		case kind == removed:
			if at >= 0 {
				h.doc = slices.Delete(h.doc, at, at+1)
			}
		case at >= 0:
			h.doc[at].Value = out
		default:
			h.doc = append(h.doc, bson.E{Key: name, Value: out})
		}
		return nil
	case holdsArray:
		idx, ok := arrayIndex(name)
		if !ok {
			break
		}
		if !h.copied {
			h.arr = append(make(bson.A, 0, max(len(h.arr), idx+1)), h.arr...)
			h.copied = true
		}
		if kind == removed {
			// $unset of an array element leaves a null in its place.
			if idx < len(h.arr) {
				h.arr[idx] = nil
			}
			return nil
		}
		for len(h.arr) < idx {
			h.arr = append(h.arr, nil)
		}
		if idx < len(h.arr) {
			h.arr[idx] = out
		} else {
			h.arr = append(h.arr, out)
		}
		return nil
	case holdsMissing:
		if kind == replaced {
			h.doc = bson.D{{Key: name, Value: out}}
			h.kind = holdsDoc
			h.copied = true
			return nil
		}
	}
	return mongoerr.Newf(mongoerr.InternalError, "update: cannot write field '%s' here", name)
}

// lookupChild returns the field name of a document, or the element at index name of an
// array.
func lookupChild(cur any, name string) (any, bool) {
	h := newHolder(cur)
	v, _, ok := h.lookup(name)
	return v, ok
}

// arrayIndex parses a path component addressing an array element: decimal digits (leading
// zeros allowed, as mongod allows them) within 32 bits.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return int(n), err == nil
}

// applyArray applies the children of an array node ("$[]" and "$[<id>]") to the elements
// of v they select.
func (a *applier) applyArray(n *arrayNode, v any) (any, resultKind, error) {
	if value.IsMissing(v) {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
			"The path '%s' must exist in the document in order to apply array updates.", a.pathString())
	}
	arr, ok := v.(bson.A)
	if !ok {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
			"Cannot apply array updates to non-array element %s", value.FormatElem(a.field(), v))
	}
	if a.buf == nil {
		a.buf = make(bson.D, 1)
	}
	var out bson.A
	for i, elem := range arr {
		// Filters see the element as it was; applying to element i changes no other one.
		var sel node
		for _, c := range n.children {
			hit := c.name == ""
			if !hit {
				var err error
				if hit, err = a.u.filters[c.name].matches(elem, a.buf, a.ctx.Env); err != nil {
					return nil, unchanged, err
				}
			}
			if !hit {
				continue
			}
			if sel == nil {
				sel = c.node
				continue
			}
			merged, err := mergeNodes(sel, c.node, a.joinPath(indexName(i)))
			if err != nil {
				return nil, unchanged, err
			}
			sel = merged
		}
		if sel == nil {
			continue
		}
		a.push(indexName(i), elem)
		res, kind, err := a.applyNode(sel, elem, missInfo{})
		a.pop()
		if err != nil {
			return nil, unchanged, err
		}
		if kind == unchanged {
			continue
		}
		if out == nil {
			out = slices.Clone(arr)
		}
		if kind == removed {
			out[i] = nil
		} else {
			out[i] = res
		}
	}
	if out == nil {
		return nil, unchanged, nil
	}
	return out, replaced, nil
}

var smallIndexes = func() []string {
	s := make([]string, 64)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func indexName(i int) string {
	if i < len(smallIndexes) {
		return smallIndexes[i]
	}
	return strconv.Itoa(i)
}

// applyLeaf applies one modifier to the value at the current path.
func (a *applier) applyLeaf(l *leafNode, v any, miss missInfo) (any, resultKind, error) {
	switch m := l.mod.(type) {
	case *renameDest:
		return a.applyRename(m, v, miss)
	case *renameSource:
		return a.applyRenameSource(v)
	case *setMod:
		if m.onInsert && !a.ctx.Inserting {
			return nil, unchanged, nil
		}
	}
	if !value.IsMissing(v) {
		out, kind, err := l.mod.update(a, v)
		if err != nil || kind == unchanged {
			return nil, unchanged, err
		}
		if err := a.checkModified(kind); err != nil {
			return nil, unchanged, err
		}
		a.changed = true
		return out, kind, nil
	}
	switch l.mod.missing() {
	case missIgnore:
		return nil, unchanged, nil
	case missViable:
		return nil, unchanged, a.checkViable(miss)
	}
	if err := a.checkCreate(miss); err != nil {
		return nil, unchanged, err
	}
	out, err := l.mod.create(a)
	if err != nil {
		return nil, unchanged, err
	}
	if err := a.checkCreated(miss, out); err != nil {
		return nil, unchanged, err
	}
	a.changed = true
	return out, replaced, nil
}

// checkModified enforces, for a change to an existing field, that _id is immutable and
// that top-level field names are storable.
func (a *applier) checkModified(kind resultKind) error {
	if a.path[0] == "_id" {
		return mongoerr.Newf(mongoerr.ImmutableField,
			"Performing an update on the path '%s' would modify the immutable field '_id'", a.pathString())
	}
	if kind == replaced && len(a.path) == 1 && !a.ctx.Inserting && strings.HasPrefix(a.path[0], "$") {
		return dollarField(a.path[0])
	}
	return nil
}

// checkCreated is checkModified for a field created under the deepest existing value:
// nothing may be created inside an existing _id, and a new top-level field may not be
// $-prefixed (mongod lets an upsert's new document have such fields).
func (a *applier) checkCreated(miss missInfo, out any) error {
	if miss.taken > 0 && a.path[0] == "_id" {
		return mongoerr.Newf(mongoerr.ImmutableField, "Updating the path '%s' to %s would modify the immutable field '_id'",
			strings.Join(a.path[:miss.taken], "."), value.FormatElem(a.field(), out))
	}
	if miss.taken == 0 && !a.ctx.Inserting && strings.HasPrefix(a.path[0], "$") {
		return dollarField(a.path[0])
	}
	return nil
}

// dollarField is the error for storing a $-prefixed top-level field name; the DBRef
// names get DBRef errors since a lone one can never form a valid DBRef.
func dollarField(name string) error {
	switch name {
	case "$ref":
		return mongoerr.Newf(mongoerr.InvalidDBRef, "The DBRef $ref field must be followed by a $id field")
	case "$id":
		return mongoerr.Newf(mongoerr.InvalidDBRef, "Found $id field without a $ref before it, which is invalid.")
	case "$db":
		return mongoerr.Newf(mongoerr.InvalidDBRef, "Found $db field without a $id before it, which is invalid.")
	}
	return mongoerr.Newf(mongoerr.DollarPrefixedFieldName,
		"The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.",
		name, name)
}

// parentElem renders the deepest existing value of a missing path for messages.
func (a *applier) parentElem(miss missInfo) string {
	if miss.taken == 0 {
		return value.Format(miss.parent())
	}
	return value.FormatElem(a.path[miss.taken-1], miss.parent())
}

// checkCreate verifies that the missing path can be created: it must start in a document,
// or in an array at an index (padding with nulls up to it).
func (a *applier) checkCreate(miss missInfo) error {
	first := a.path[miss.taken]
	switch miss.kind {
	case holdsDoc:
		return nil
	case holdsArray:
		if idx, ok := arrayIndex(first); ok {
			if idx-len(miss.arr) > maxPadding {
				return mongoerr.Newf(mongoerr.CannotBackfillArray, "can't backfill more than %d elements", maxPadding)
			}
			return nil
		}
	}
	return mongoerr.Newf(mongoerr.PathNotViable, "Cannot create field '%s' in element {%s}", first, a.parentElem(miss))
}

// checkViable is the check of modifiers that do nothing on a missing path ($pop, $pull,
// $pullAll) but still reject a path that could not exist.
func (a *applier) checkViable(miss missInfo) error {
	first := a.path[miss.taken]
	switch miss.kind {
	case holdsDoc:
		return nil
	case holdsArray:
		if _, ok := arrayIndex(first); ok {
			return nil
		}
	}
	return mongoerr.Newf(mongoerr.PathNotViable, "Cannot use the part (%s of %s) to traverse the element ({%s})",
		first, a.pathString(), a.parentElem(miss))
}

// applyRenameSource removes the source of a $rename. Whether the rename is valid is
// decided at the destination, which fails the whole update otherwise.
func (a *applier) applyRenameSource(v any) (any, resultKind, error) {
	if value.IsMissing(v) {
		return nil, unchanged, nil
	}
	if a.path[0] == "_id" {
		return nil, unchanged, mongoerr.Newf(mongoerr.ImmutableField,
			"Unsetting the path '%s' using $rename would modify the immutable field '_id'", a.pathString())
	}
	a.changed = true
	return nil, removed, nil
}

// applyRename sets the destination of a $rename to the source's value.
func (a *applier) applyRename(m *renameDest, v any, miss missInfo) (any, resultKind, error) {
	src, found, err := a.renameSource(m)
	if err != nil || !found {
		return nil, unchanged, err
	}
	// Neither the destination nor its parents may be array elements.
	top := len(a.vals) - 1
	if value.IsMissing(v) {
		top = miss.taken
	}
	for i := 0; i < top; i++ {
		if _, isArray := a.vals[i].(bson.A); isArray {
			return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
				"The destination field cannot be an array element, '%s' in doc with %s has an array field called '%s'",
				m.to, a.idString(), a.path[i])
		}
	}
	if !value.IsMissing(v) {
		if binaryEqual(v, src) {
			return nil, unchanged, nil
		}
		if err := a.checkModified(replaced); err != nil {
			return nil, unchanged, err
		}
		a.changed = true
		return src, replaced, nil
	}
	if err := a.checkCreate(miss); err != nil {
		return nil, unchanged, err
	}
	if err := a.checkCreated(miss, src); err != nil {
		return nil, unchanged, err
	}
	a.changed = true
	return src, replaced, nil
}

// renameSource finds the value a $rename moves. A missing source makes the rename a no-op;
// a path through a scalar is an error, and so is a source inside an array.
func (a *applier) renameSource(m *renameDest) (any, bool, error) {
	var cur any = a.root
	for i, p := range m.fromParts {
		var next any
		found := false
		switch x := cur.(type) {
		case bson.D:
			next, found = value.Lookup(x, p)
		case bson.A:
			idx, ok := arrayIndex(p)
			if !ok {
				return nil, false, a.notTraversable(m, i, cur)
			}
			if idx < len(x) {
				next, found = x[idx], true
			}
		default:
			return nil, false, a.notTraversable(m, i, cur)
		}
		if !found {
			return nil, false, nil
		}
		cur = next
	}
	var parent any = a.root
	for i, p := range m.fromParts[:len(m.fromParts)-1] {
		parent, _ = lookupChild(parent, p)
		if _, isArray := parent.(bson.A); isArray {
			return nil, false, mongoerr.Newf(mongoerr.BadValue,
				"The source field cannot be an array element, '%s' in doc with %s has an array field called '%s'",
				m.from, a.idString(), m.fromParts[i])
		}
	}
	return cur, true, nil
}

func (a *applier) notTraversable(m *renameDest, i int, cur any) error {
	elem := value.Format(cur)
	if i > 0 {
		elem = value.FormatElem(m.fromParts[i-1], cur)
	}
	return mongoerr.Newf(mongoerr.PathNotViable, "cannot use the part (%s of %s) to traverse the element ({%s})",
		m.fromParts[i], m.from, elem)
}

// finishInsert completes an upsert's new document as mongod does: _id moves first, and
// must be a storable _id.
func finishInsert(doc bson.D) (bson.D, error) {
	i := slices.IndexFunc(doc, func(e bson.E) bool { return e.Key == "_id" })
	if i < 0 {
		return doc, nil
	}
	if i > 0 {
		out := make(bson.D, 0, len(doc))
		out = append(out, doc[i])
		out = append(out, doc[:i]...)
		doc = append(out, doc[i+1:]...)
	}
	return doc, ValidateID(doc[0].Value)
}

// ValidateID checks that v can be stored as a document's _id: not an array, a regex or
// undefined, and (for a document) no $-prefixed field names at any depth.
func ValidateID(v any) error {
	switch x := v.(type) {
	case bson.A, bson.Regex, bson.Undefined:
		return mongoerr.Newf(mongoerr.InvalidIDField, "The '_id' value cannot be of type %s", value.TypeName(v))
	case bson.D:
		if name, ok := dollarKey(x); ok {
			return mongoerr.Newf(mongoerr.DollarPrefixedFieldName,
				"_id fields may not contain '$'-prefixed fields: %s is not valid for storage.", name)
		}
	}
	return nil
}

// dollarKey finds a $-prefixed field name anywhere in d (DBRef names excepted).
func dollarKey(d bson.D) (string, bool) {
	for _, e := range d {
		if strings.HasPrefix(e.Key, "$") && e.Key != "$ref" && e.Key != "$id" && e.Key != "$db" {
			return e.Key, true
		}
		if name, ok := dollarKeyIn(e.Value); ok {
			return name, true
		}
	}
	return "", false
}

func dollarKeyIn(v any) (string, bool) {
	switch x := v.(type) {
	case bson.D:
		return dollarKey(x)
	case bson.A:
		for _, e := range x {
			if name, ok := dollarKeyIn(e); ok {
				return name, true
			}
		}
	}
	return "", false
}
