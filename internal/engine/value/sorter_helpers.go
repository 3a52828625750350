package value

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
)

// MaxFieldPathLength is the most components a dotted field path may have, as in mongod
// (the BSON nesting limit).
const MaxFieldPathLength = 200

// allowedDollarFields are the "$"-prefixed names a field path may contain anyway: DBRef
// fields and metadata names mongod itself writes.
var allowedDollarFields = map[string]bool{
	"$id": true, "$ref": true, "$db": true,
	"$sortKey": true, "$recordId": true, "$searchSortValues": true, "$searchScore": true,
}

// SplitFieldPath checks a dotted field path ("a.b.c") the way mongod validates the paths of
// sort specifications and projections, and returns its components. The errors carry
// mongod's codes: 40352 for an empty path, 40353 for a trailing dot, 15998 for an empty
// component, 16410 for a component starting with '$', 16411 for a NUL byte and Overflow for
// a path with more than MaxFieldPathLength components.
func SplitFieldPath(path string) ([]string, error) {
	if path == "" {
		return nil, mongoerr.Newf(40352, "FieldPath cannot be constructed with empty string")
	}
	if path[len(path)-1] == '.' {
		return nil, mongoerr.Newf(40353, "FieldPath must not end with a '.'.")
	}
	parts := strings.Split(path, ".")
	if len(parts) > MaxFieldPathLength {
		return nil, mongoerr.Newf(mongoerr.Overflow, "FieldPath is too long")
	}
	for _, p := range parts {
		if err := CheckFieldPathComponent(p); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// CheckFieldPathComponent checks one component of a field path (see SplitFieldPath).
func CheckFieldPathComponent(name string) error {
	switch {
	case name == "":
		return mongoerr.Newf(15998, "FieldPath field names may not be empty strings.")
	case name[0] == '$' && !allowedDollarFields[name]:
		return mongoerr.Newf(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
	case strings.IndexByte(name, 0) >= 0:
		return mongoerr.Newf(16411, "FieldPath field names may not contain '\\0'.")
	}
	return nil
}
