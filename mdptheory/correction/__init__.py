"""mdptheory.correction"""
