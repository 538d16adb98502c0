/// Store operations of the registry feature (youth registry, demands, audit log).
public protocol RegistryRecords {}
