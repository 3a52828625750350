package update

import (
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Update is a compiled update-operator document. Immutable, safe for concurrent use.
type Update struct {
	root       *objectNode
	filters    map[string]*arrayFilter
	positional bool // some path uses "$"
}

// Context carries what one application needs.
type Context struct {
	Positional int            // index the query matched for positional "$" (from match.MatchPosition), -1 if none
	Inserting  bool           // true when applying to an upsert's new document ($setOnInsert applies)
	Now        bson.DateTime  // for $currentDate {$type: "date"} and true
	Timestamp  bson.Timestamp // for $currentDate {$type: "timestamp"}
	Env        *expr.Env      // for arrayFilters that use $expr; may be nil
}

// IsPositional reports whether the update uses the positional "$" operator, so the caller
// knows it needs the query's matched array position.
func (u *Update) IsPositional() bool { return u.positional }

// node is one node of the compiled tree: *objectNode, *arrayNode or *leafNode.
type node interface{ isNode() }

// objectNode applies its children to the fields of a document (or, for numeric names, the
// elements of an array), in fieldLess order.
type objectNode struct {
	children   []namedChild
	positional node // the "$" child, applied at the query's matched position
}

// arrayNode applies its children to the elements of an array: the "" child ("$[]") to
// every element, an identifier's child to the elements its array filter matches.
type arrayNode struct {
	children []namedChild
}

type namedChild struct {
	name string
	node node
}

// leafNode is one modifier applied at one path.
type leafNode struct {
	mod modifier
}

func (*objectNode) isNode() {}
func (*arrayNode) isNode()  {}
func (*leafNode) isNode()   {}

func (o *objectNode) child(name string) node {
	if name == "$" {
		return o.positional
	}
	if i, ok := findChild(o.children, name); ok {
		return o.children[i].node
	}
	return nil
}

func (o *objectNode) setChild(name string, n node) {
	if name == "$" {
		o.positional = n
		return
	}
	o.children = insertChild(o.children, name, n)
}

func (a *arrayNode) child(name string) node {
	if i, ok := findChild(a.children, name); ok {
		return a.children[i].node
	}
	return nil
}

func findChild(children []namedChild, name string) (int, bool) {
	return slices.BinarySearchFunc(children, name, func(c namedChild, n string) int {
		return fieldCompare(c.name, n)
	})
}

func insertChild(children []namedChild, name string, n node) []namedChild {
	i, _ := findChild(children, name)
	return slices.Insert(children, i, namedChild{name, n})
}

// fieldCompare orders field names the way mongod orders the children of an update node:
// names that are decimal numbers without leading zeros in numeric order (shorter first),
// everything else by bytes.
func fieldCompare(a, b string) int {
	numeric := func(s string) bool {
		return s != "" && s[0] >= '0' && s[0] <= '9' && (s[0] != '0' || len(s) == 1)
	}
	if numeric(a) && numeric(b) && len(a) != len(b) {
		// A longer digit string is a larger number; mongod also orders strings that merely
		// start with a digit this way, which keeps the order consistent.
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// Operator names, as MongoDB spells them.
const (
	opSet         = "$set"
	opUnset       = "$unset"
	opInc         = "$inc"
	opMul         = "$mul"
	opMin         = "$min"
	opMax         = "$max"
	opRename      = "$rename"
	opSetOnInsert = "$setOnInsert"
	opCurrentDate = "$currentDate"
	opPush        = "$push"
	opAddToSet    = "$addToSet"
	opPop         = "$pop"
	opPull        = "$pull"
	opPullAll     = "$pullAll"
	opBit         = "$bit"
)

// parsers builds the modifier of one operator from the value given for one path.
var parsers = map[string]func(path string, arg any) (modifier, error){
	opSet:         parseSet,
	opSetOnInsert: parseSetOnInsert,
	opUnset:       parseUnset,
	opInc:         parseInc,
	opMul:         parseMul,
	opMin:         parseMin,
	opMax:         parseMax,
	opCurrentDate: parseCurrentDate,
	opPush:        parsePush,
	opAddToSet:    parseAddToSet,
	opPop:         parsePop,
	opPull:        parsePull,
	opPullAll:     parsePullAll,
	opBit:         parseBit,
}

// IsOperatorUpdate reports whether spec is an operator document (first key starts with "$")
// rather than a replacement.
func IsOperatorUpdate(spec bson.D) bool {
	return len(spec) > 0 && strings.HasPrefix(spec[0].Key, "$")
}

// Compile parses an update document of operators ({$set: {...}, $inc: {...}}). arrayFilters are the
// command's arrayFilters (each a filter on one identifier). Errors as MongoDB: unknown modifier
// (code 9 "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array"),
// conflicting paths (40 "Updating the path 'a.b' would create a conflict at 'a'"), unused or
// undefined array filter identifiers (9 / 2), bad argument types (e.g. $inc with a string: 14 TypeMismatch
// "Cannot increment with non-numeric argument: ..."). An operator with an empty document
// ({$set: {}}) is a no-op, as in MongoDB 5.0 and later.
func Compile(spec bson.D, arrayFilters []bson.D) (*Update, error) {
	return CompileWithVars(spec, arrayFilters, nil)
}

// CompileWithVars is Compile for a command with a let: vars names the user variables
// (without "$$") that $expr in arrayFilters may reference; their values come from
// Context.Env at Apply.
func CompileWithVars(spec bson.D, arrayFilters []bson.D, vars []string) (*Update, error) {
	// mongod parses the array filters before the update document, so their errors win.
	filters, err := parseArrayFilters(arrayFilters, vars)
	if err != nil {
		return nil, err
	}
	u := &Update{root: &objectNode{}, filters: filters}
	used := map[string]bool{}
	for _, op := range spec {
		name := op.Key
		_, known := parsers[name]
		if !known && name != opRename {
			return nil, mongoerr.Newf(mongoerr.FailedToParse,
				"Unknown modifier: %s. Expected a valid update modifier or pipeline-style update specified as an array", name)
		}
		fields, ok := op.Value.(bson.D)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.FailedToParse,
				"Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}} not {%s}",
				value.TypeName(op.Value), value.FormatElem(name, op.Value))
		}
		for _, f := range fields {
			if name == opRename {
				err = u.addRename(f, used)
			} else {
				err = u.add(name, f.Key, f.Value, used)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	for _, f := range arrayFilters {
		id := filterID(f)
		if id != "" && !used[id] {
			return nil, mongoerr.Newf(mongoerr.FailedToParse,
				"The array filter for identifier '%s' was not used in the update %s", id, value.Format(spec))
		}
	}
	return u, nil
}

// add parses one "path: argument" pair of operator op and merges it into the tree.
func (u *Update) add(op, path string, arg any, used map[string]bool) error {
	parts, err := u.checkPath(path)
	if err != nil {
		return err
	}
	// The tree keeps the argument, so it must not share memory with the caller's spec.
	mod, err := parsers[op](path, value.DeepCopy(arg))
	if err != nil {
		return err
	}
	return u.merge(parts, path, &leafNode{mod: mod}, used)
}

// addRename adds the two nodes of {$rename: {from: to}}: a placeholder at the source path,
// which removes the source field and claims the path against conflicts, and the renaming
// leaf at the destination path.
func (u *Update) addRename(f bson.E, used map[string]bool) error {
	from := f.Key
	fromParts, err := u.checkPath(from)
	if err != nil {
		return err
	}
	src := &renameSource{}
	if err := u.merge(fromParts, from, &leafNode{mod: src}, used); err != nil {
		return err
	}
	to, ok := f.Value.(string)
	if !ok {
		return mongoerr.Newf(mongoerr.BadValue, "The 'to' field for $rename must be a string: %s", value.FormatElem(from, f.Value))
	}
	toParts, err := u.checkPath(to)
	if err != nil {
		return err
	}
	mod, err := parseRename(from, fromParts, to, toParts, f)
	if err != nil {
		return err
	}
	src.dest = mod
	return u.merge(toParts, to, &leafNode{mod: mod}, used)
}

// checkPath validates an update path: no empty components, at most one positional "$"
// and not first.
func (u *Update) checkPath(path string) ([]string, error) {
	if path == "" {
		return nil, mongoerr.Newf(mongoerr.EmptyFieldName, "An empty update path is not valid.")
	}
	parts := strings.Split(path, ".")
	positional := 0
	for i, p := range parts {
		if p == "" {
			return nil, mongoerr.Newf(mongoerr.EmptyFieldName,
				"The update path '%s' contains an empty field name, which is not allowed.", path)
		}
		if p == "$" {
			positional++
			if positional > 1 {
				return nil, mongoerr.Newf(mongoerr.BadValue, "Too many positional (i.e. '$') elements found in path '%s'", path)
			}
			if i == 0 {
				return nil, mongoerr.Newf(mongoerr.BadValue,
					"Cannot have positional (i.e. '$') element in the first position in path '%s'", path)
			}
		}
	}
	if positional > 0 {
		u.positional = true
	}
	return parts, nil
}

// isArrayFilterStep reports whether a path component is "$[]" or "$[<identifier>]".
func isArrayFilterStep(p string) bool {
	return len(p) >= 3 && p[0] == '$' && p[1] == '[' && p[len(p)-1] == ']'
}

// identifier returns the child name of an array filter step, checking that the identifier
// has a filter and recording its use.
func (u *Update) identifier(parts []string, i int, path string, used map[string]bool) (string, error) {
	if i == 0 {
		return "", mongoerr.Newf(mongoerr.BadValue,
			"Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '%s'", path)
	}
	id := parts[i][2 : len(parts[i])-1]
	if id != "" {
		if _, ok := u.filters[id]; !ok {
			return "", mongoerr.Newf(mongoerr.BadValue, "No array filter found for identifier '%s' in path '%s'", id, path)
		}
		used[id] = true
	}
	return id, nil
}

// merge places leaf at parts, creating internal nodes along the way, and rejects paths that
// overlap a path already in the tree.
func (u *Update) merge(parts []string, path string, leaf *leafNode, used map[string]bool) error {
	type parent interface {
		child(string) node
	}
	var cur node = u.root
	for i := 0; i < len(parts); i++ {
		name := parts[i]
		if isArrayFilterStep(name) {
			id, err := u.identifier(parts, i, path, used)
			if err != nil {
				return err
			}
			name = id
		}
		existing := cur.(parent).child(name)
		if i == len(parts)-1 {
			if existing != nil {
				return conflict(path, path)
			}
			setChild(cur, name, leaf)
			return nil
		}
		wantArray := isArrayFilterStep(parts[i+1])
		if existing != nil {
			_, isArray := existing.(*arrayNode)
			_, isObject := existing.(*objectNode)
			if (wantArray && !isArray) || (!wantArray && !isObject) {
				return conflict(path, strings.Join(parts[:i+1], "."))
			}
			cur = existing
			continue
		}
		var n node
		if wantArray {
			n = &arrayNode{}
		} else {
			n = &objectNode{}
		}
		setChild(cur, name, n)
		cur = n
	}
	return nil
}

func setChild(parent node, name string, n node) {
	switch p := parent.(type) {
	case *objectNode:
		p.setChild(name, n)
	case *arrayNode:
		p.children = insertChild(p.children, name, n)
	}
}

func conflict(path, at string) error {
	return mongoerr.Newf(mongoerr.ConflictingUpdateOperators, "Updating the path '%s' would create a conflict at '%s'", path, at)
}

// mergeNodes combines two subtrees that apply to the same element at run time (the "$"
// child with a named child of the same index, or two array filters matching one element).
// Only internal nodes of the same kind combine; anything else is a conflict.
func mergeNodes(x, y node, at string) (node, error) {
	switch a := x.(type) {
	case *objectNode:
		if b, ok := y.(*objectNode); ok {
			children, err := mergeChildren(a.children, b.children, at, false)
			if err != nil {
				return nil, err
			}
			out := &objectNode{children: children, positional: a.positional}
			if b.positional != nil {
				if a.positional == nil {
					out.positional = b.positional
				} else if out.positional, err = mergeNodes(a.positional, b.positional, at+".$"); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
	case *arrayNode:
		if b, ok := y.(*arrayNode); ok {
			children, err := mergeChildren(a.children, b.children, at, true)
			if err != nil {
				return nil, err
			}
			return &arrayNode{children: children}, nil
		}
	}
	return nil, mongoerr.Newf(mongoerr.ConflictingUpdateOperators, "Update created a conflict at '%s'", at)
}

func mergeChildren(a, b []namedChild, at string, identifiers bool) ([]namedChild, error) {
	out := slices.Clone(a)
	for _, c := range b {
		i, found := findChild(out, c.name)
		if !found {
			out = slices.Insert(out, i, c)
			continue
		}
		step := c.name
		if identifiers {
			step = "$[" + step + "]"
		}
		m, err := mergeNodes(out[i].node, c.node, at+"."+step)
		if err != nil {
			return nil, err
		}
		out[i] = namedChild{c.name, m}
	}
	return out, nil
}
