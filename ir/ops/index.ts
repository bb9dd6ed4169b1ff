// Importing this module registers every op definition (each family file calls registerOp at load).
