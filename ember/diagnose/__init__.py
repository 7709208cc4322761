"""ember.diagnose"""
