// The ohm-js grammar of kiln's textual IR (.kir), kept as a string constant so the built package needs no asset
// files. It is purely syntactic: names, dtypes and counts are checked by the parser (parse.ts), which can then
// report `unknown dtype 'f33'` at the dtype rather than a vague "expected" list.
//
//   graph @main(%x: f32[batch,4], %b: bool[]) {
//     symbol batch in 1..64
//     const %w: f32[4] = [1, 2, 3.5, -inf]
//     param %p: f32[4,4] = "layer.0.weight"
//     %0, %1 = Split(%x) {axis = 1, split = [2, 2]} : f32[batch,2], f32[batch,2]
//     %y = If(%b) : f32[batch,2]
//       region @then_branch() {
//         return %0
//       }
//       region @else_branch() {
//         %n = Neg(%0) : f32[batch,2]
//         return %n
//       }
//     return %y
//   }
//
// Capitalised rules are syntactic (ohm skips whitespace and `//` comments between their parts); lower-case rules
// are lexical (no skipping inside). Newlines are ordinary whitespace: statements are delimited by their shape.

export const KIR_GRAMMAR_SOURCE = String.raw`
Kir {
  Graph = "graph" graphName "(" ListOf<InputDecl, ","> ")" "{" Stmt* Return "}" end

  InputDecl = valueRef ":" Type

  Stmt = SymbolDecl | ConstDecl | ParamDecl | NodeStmt

  SymbolDecl = "symbol" symbolName "in" int ".." int
  ConstDecl = "const" valueRef ":" Type "=" ConstData
  ConstData = NumberList | EmptyList
  ParamDecl = "param" valueRef ":" Type ParamSource?
  ParamSource = "=" string

  NodeStmt = NonemptyListOf<valueRef, ","> "=" opName "(" ListOf<Operand, ","> ")" Attrs? OutTypes? Region*
  // A node's nested graphs (If's branches, a Loop's body): their statements may read the enclosing graph's values.
  Region = "region" graphName "(" ListOf<InputDecl, ","> ")" "{" Stmt* Return "}"
  Operand = valueRef | omitted
  Attrs = "{" ListOf<Attr, ","> "}"
  Attr = attrKey "=" AttrValue
  AttrValue = NumberList | StringList | DimList | EmptyList | number | string | bool
  OutTypes = ":" NonemptyListOf<Type, ",">

  Return = "return" ListOf<valueRef, ",">

  // The {layout=..., encoding=...} suffix must touch the "]", so "graph @g(%x: f32[4] {" still reads as the body.
  Type = dtypeName "[" ListOf<dim, ","> "]" (&#"{" TypeExtras)?
  TypeExtras = "{" NonemptyListOf<TypeExtra, ","> "}"
  TypeExtra = extraKey "=" Descriptor
  Descriptor = descriptorKind DescriptorParams?
  DescriptorParams = "(" ListOf<DescriptorParam, ","> ")"
  DescriptorParam = paramKey "=" ParamValue
  ParamValue = NumberList | EmptyList | number | string | bool | valueRef | word

  NumberList = "[" NonemptyListOf<number, ","> "]"
  StringList = "[" NonemptyListOf<string, ","> "]"
  // A 'dims' attribute with symbolic entries: shape = [batch, -1, 2*sequence].
  DimList = "[" NonemptyListOf<dim, ","> "]"
  EmptyList = "[" "]"

  // Names are ASCII. Character classes are written as ranges rather than ohm's (Unicode) letter/alnum/digit:
  // that is the spec, and it halves the rule applications per character, which is most of ohm's parse time.
  graphName (a graph name) = "@" name
  valueRef (a value like %x) = "%" name
  omitted = "_" ~nameChar
  name = string | bareName
  bareName = ("a".."z" | "A".."Z" | "0".."9" | "_" | "." | "$" | "-")+
  nameChar = "a".."z" | "A".."Z" | "0".."9" | "_" | "." | "$" | "-"
  identStart = "a".."z" | "A".."Z" | "_"
  identChar = "a".."z" | "A".."Z" | "0".."9" | "_"

  ident = identStart identChar*
  symbolName (a symbol name) = ident
  opName (an op name) = ~keyword identStart (identChar | ".")*
  keyword = ("return" | "const" | "param" | "symbol" | "graph" | "region") ~(identChar | ".")
  attrKey (an attribute name) = ident | string
  extraKey = "layout" | "encoding"
  paramKey (a parameter name) = ident
  descriptorKind (a layout or encoding kind) = identStart (identChar | "-")*
  word (a name like f16 or per-group) = identStart (identChar | "-")*
  dtypeName (a dtype) = identStart identChar*
  // Dims are integers, symbols, or expressions over them printed without spaces (ir/dim.ts): 2*seq+1, (w+1)//2.
  dim (a dimension) = "-"? dimTerm (("+" | "-") dimTerm)*
  dimTerm = dimFactor (("*" | "//") dimFactor)*
  dimFactor = digits  -- int
            | ident  -- symbol
            | "(" dim ")"  -- paren

  bool = ("true" | "false") ~identChar
  int (an integer) = "-"? digits
  number (a number) = "-"? "inf" ~identChar  -- inf
                    | "nan" ~identChar  -- nan
                    | "-"? digits ("." digits)? (("e" | "E") ("+" | "-")? digits)?  -- finite
  digits = ("0".."9")+

  // JSON string syntax (the printer uses JSON.stringify, the parser JSON.parse): control characters are escaped.
  string (a string) = "\"" strChar* "\""
  strChar = "\\" escape  -- escaped
          | ~("\"" | "\\" | "\x00".."\x1f") any  -- plain
  escape = "u" hexDigit hexDigit hexDigit hexDigit  -- unicode
         | "\"" | "\\" | "/" | "b" | "f" | "n" | "r" | "t"  -- simple

  space += comment
  comment = "//" (~"\n" any)*
}
`;
