// Package mongoerr defines the embedded server's errors: a MongoDB error code, its code
// name and a message, rendered into command replies exactly as mongod renders them.
package mongoerr

import (
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Codes used by the server, with MongoDB's numbers.
const (
	InternalError                      int32 = 1
	BadValue                           int32 = 2
	NoSuchKey                          int32 = 4
	FailedToParse                      int32 = 9
	TypeMismatch                       int32 = 14
	Overflow                           int32 = 15
	InvalidLength                      int32 = 16
	ProtocolError                      int32 = 17
	IllegalOperation                   int32 = 20
	InvalidBSON                        int32 = 22
	NamespaceNotFound                  int32 = 26
	IndexNotFound                      int32 = 27
	PathNotViable                      int32 = 28
	CannotBackfillArray                int32 = 34
	ConflictingUpdateOperators         int32 = 40
	CursorNotFound                     int32 = 43
	NamespaceExists                    int32 = 48
	MaxTimeMSExpired                   int32 = 50
	DollarPrefixedFieldName            int32 = 52
	InvalidIDField                     int32 = 53
	NotSingleValueField                int32 = 54
	InvalidDBRef                       int32 = 55
	EmptyFieldName                     int32 = 56
	DottedFieldName                    int32 = 57
	CommandNotFound                    int32 = 59
	ImmutableField                     int32 = 66
	CannotCreateIndex                  int32 = 67
	IndexAlreadyExists                 int32 = 68
	InvalidOptions                     int32 = 72
	InvalidNamespace                   int32 = 73
	IndexOptionsConflict               int32 = 85
	IndexKeySpecsConflict              int32 = 86
	OperationFailed                    int32 = 96
	NotExactValueField                 int32 = 111
	CommandNotSupported                int32 = 115
	DocumentValidationFailure          int32 = 121
	NotAReplicaSet                     int32 = 123
	ExceededMemoryLimit                int32 = 146
	InvalidPipelineOperator            int32 = 168
	InvalidIndexSpecificationOption    int32 = 197
	QueryFeatureNotAllowed             int32 = 224
	NotImplemented                     int32 = 238
	ConversionFailure                  int32 = 241
	NoSuchTransaction                  int32 = 251
	OperationNotSupportedInTransaction int32 = 263
	APIStrictError                     int32 = 323
	SearchNotEnabled                   int32 = 31082
	UnknownStage                       int32 = 40324
	DuplicateKey                       int32 = 11000
	BSONObjectTooLarge                 int32 = 10334
)

var codeNames = map[int32]string{
	InternalError:                      "InternalError",
	BadValue:                           "BadValue",
	NoSuchKey:                          "NoSuchKey",
	FailedToParse:                      "FailedToParse",
	TypeMismatch:                       "TypeMismatch",
	Overflow:                           "Overflow",
	InvalidLength:                      "InvalidLength",
	ProtocolError:                      "ProtocolError",
	IllegalOperation:                   "IllegalOperation",
	InvalidBSON:                        "InvalidBSON",
	NamespaceNotFound:                  "NamespaceNotFound",
	IndexNotFound:                      "IndexNotFound",
	PathNotViable:                      "PathNotViable",
	CannotBackfillArray:                "CannotBackfillArray",
	ConflictingUpdateOperators:         "ConflictingUpdateOperators",
	CursorNotFound:                     "CursorNotFound",
	NamespaceExists:                    "NamespaceExists",
	MaxTimeMSExpired:                   "MaxTimeMSExpired",
	DollarPrefixedFieldName:            "DollarPrefixedFieldName",
	InvalidIDField:                     "InvalidIdField",
	NotSingleValueField:                "NotSingleValueField",
	InvalidDBRef:                       "InvalidDBRef",
	EmptyFieldName:                     "EmptyFieldName",
	DottedFieldName:                    "DottedFieldName",
	CommandNotFound:                    "CommandNotFound",
	ImmutableField:                     "ImmutableField",
	CannotCreateIndex:                  "CannotCreateIndex",
	IndexAlreadyExists:                 "IndexAlreadyExists",
	InvalidOptions:                     "InvalidOptions",
	InvalidNamespace:                   "InvalidNamespace",
	IndexOptionsConflict:               "IndexOptionsConflict",
	IndexKeySpecsConflict:              "IndexKeySpecsConflict",
	OperationFailed:                    "OperationFailed",
	NotExactValueField:                 "NotExactValueField",
	CommandNotSupported:                "CommandNotSupported",
	DocumentValidationFailure:          "DocumentValidationFailure",
	NotAReplicaSet:                     "NotAReplicaSet",
	ExceededMemoryLimit:                "ExceededMemoryLimit",
	InvalidPipelineOperator:            "InvalidPipelineOperator",
	InvalidIndexSpecificationOption:    "InvalidIndexSpecificationOption",
	QueryFeatureNotAllowed:             "QueryFeatureNotAllowed",
	NotImplemented:                     "NotImplemented",
	ConversionFailure:                  "ConversionFailure",
	NoSuchTransaction:                  "NoSuchTransaction",
	OperationNotSupportedInTransaction: "OperationNotSupportedInTransaction",
	APIStrictError:                     "APIStrictError",
	SearchNotEnabled:                   "SearchNotEnabled",
	DuplicateKey:                       "DuplicateKey",
	BSONObjectTooLarge:                 "BSONObjectTooLarge",
}

// CodeName returns MongoDB's name for code; codes without a name are "Location<code>",
// as mongod reports them.
func CodeName(code int32) string {
	if name, ok := codeNames[code]; ok {
		return name
	}
	return fmt.Sprintf("Location%d", code)
}

// Error is a MongoDB server error.
type Error struct {
	Code    int32
	Message string
	// Extra holds additional reply fields, such as keyPattern and keyValue of a
	// duplicate-key error or errInfo of a validation failure.
	Extra bson.D
}

// Error returns the message with its code name, as the driver would print it.
func (e *Error) Error() string {
	return fmt.Sprintf("(%s) %s", CodeName(e.Code), e.Message)
}

// Newf returns an error with code and a formatted message.
func Newf(code int32, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// From returns err as an *Error; an error of any other kind becomes InternalError, so a
// bug is reported to the client rather than hidden.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: InternalError, Message: err.Error()}
}

// HasCode reports whether err is an *Error with the given code.
func HasCode(err error, code int32) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Reply returns the command reply document for e: ok 0, errmsg, code, codeName and any
// extra fields.
func (e *Error) Reply() bson.D {
	reply := bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: e.Message},
		{Key: "code", Value: e.Code},
		{Key: "codeName", Value: CodeName(e.Code)},
	}
	return append(reply, e.Extra...)
}

// WriteError returns e as an entry of a write command's writeErrors array.
func (e *Error) WriteError(index int) bson.D {
	we := bson.D{
		{Key: "index", Value: int32(index)},
		{Key: "code", Value: e.Code},
		{Key: "errmsg", Value: e.Message},
	}
	return append(we, e.Extra...)
}
